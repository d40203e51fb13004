/// The complete configuration of one proxy (or one group of identical proxies) at one moment.
public struct Snapshot: Sendable, Equatable {
    private var byType: [ResourceType: [String: XDSResource]]

    public init(_ resources: [XDSResource] = []) {
        var byType: [ResourceType: [String: XDSResource]] = [:]
        for resource in resources {
            byType[resource.type, default: [:]][resource.name] = resource
        }
        self.byType = byType
    }

    /// The resources of one type, by name.
    public func resources(_ type: ResourceType) -> [String: XDSResource] {
        byType[type] ?? [:]
    }

    public func resource(_ type: ResourceType, named name: String) -> XDSResource? {
        byType[type]?[name]
    }

    /// Every resource, grouped by type in push order and sorted by name.
    public var all: [XDSResource] {
        ResourceType.allCases.flatMap { type in
            resources(type).values.sorted { $0.name < $1.name }
        }
    }

    /// Names that resources refer to but that no resource of the snapshot defines, e.g. a
    /// route to a cluster that does not exist. Envoy would answer such a route with 503.
    public var danglingClusterReferences: [String: Set<String>] {
        let clusters = resources(.cluster)
        var dangling: [String: Set<String>] = [:]
        for resource in all {
            let missing = resource.referencedClusters.filter { clusters[$0] == nil }
            if !missing.isEmpty { dangling[resource.name] = missing }
        }
        return dangling
    }
}
