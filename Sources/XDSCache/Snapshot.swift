/// The complete configuration of one proxy (or one group of identical proxies) at one moment.
///
/// A snapshot is a stack of shared layers, e.g. the outbound configuration of the proxy's class,
/// its workload's inbound configuration and its identity's secrets: proxies that share a layer
/// share its resources and dictionaries, not copies. Where layers define the same name, the
/// earlier layer wins.
public struct Snapshot: Sendable, Equatable {
    private var layers: [SnapshotLayer]

    public init(_ resources: [XDSResource] = []) {
        layers = resources.isEmpty ? [] : [SnapshotLayer(resources)]
    }

    /// The layers of `snapshots`, in order: the first one's resources win over later ones.
    public init(layers snapshots: [Snapshot]) {
        layers = snapshots.flatMap(\.layers)
    }

    /// A one-layer snapshot with `resources` in place of those of the same type and name; the
    /// tables of other types stay the same objects. Nil for a snapshot of several layers, or
    /// when a resource has no counterpart to replace (nothing is added).
    public func replacing(_ resources: [XDSResource]) -> Snapshot? {
        guard layers.count <= 1 else { return nil }
        guard let layer = layers.first else { return resources.isEmpty ? self : nil }
        var byType = layer.byType
        for (type, replacements) in Dictionary(grouping: resources, by: \.type) {
            guard let table = byType[type] else { return nil }
            var byName = table.byName
            for resource in replacements {
                guard byName[resource.name] != nil else { return nil }
                byName[resource.name] = resource
            }
            byType[type] = ResourceTable(byName)
        }
        var replaced = self
        replaced.layers = [SnapshotLayer(byType: byType)]
        return replaced
    }

    /// This snapshot with each table replaced by the pool's table of the same contents, if any.
    func interning(_ intern: (ResourceTable) -> ResourceTable) -> Snapshot {
        var interned = self
        interned.layers = layers.map { $0.interning(intern) }
        return interned
    }

    /// The resources of one type, by name.
    public func resources(_ type: ResourceType) -> [String: XDSResource] {
        switch layers.count {
        case 0: return [:]
        case 1: return layers[0].byType[type]?.byName ?? [:]
        default:
            var merged: [String: XDSResource] = [:]
            for layer in layers.reversed() {
                merged.merge(layer.byType[type]?.byName ?? [:]) { _, earlier in earlier }
            }
            return merged
        }
    }

    public func resource(_ type: ResourceType, named name: String) -> XDSResource? {
        view(type)[name]
    }

    /// The resources of one type as the layers' shared tables.
    func view(_ type: ResourceType) -> ResourceView {
        ResourceView(tables: layers.compactMap { $0.byType[type] })
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

    /// Equal layers (the same shared layer, or layers with the same resources and versions).
    public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool {
        lhs.layers.count == rhs.layers.count
            && zip(lhs.layers, rhs.layers).allSatisfy { $0 === $1 || $0.digest == $1.digest }
    }
}

/// One immutable, shared set of resources of a snapshot.
final class SnapshotLayer: Sendable {
    let byType: [ResourceType: ResourceTable]
    /// The tables' digests, by type: equal digests, equal content.
    let digest: [UInt64]

    convenience init(_ resources: [XDSResource]) {
        var byName: [ResourceType: [String: XDSResource]] = [:]
        for resource in resources {
            byName[resource.type, default: [:]][resource.name] = resource
        }
        self.init(byType: byName.mapValues(ResourceTable.init))
    }

    init(byType: [ResourceType: ResourceTable]) {
        self.byType = byType
        digest = ResourceType.allCases.map { byType[$0]?.digest ?? 0 }
    }

    func interning(_ intern: (ResourceTable) -> ResourceTable) -> SnapshotLayer {
        let interned = byType.mapValues(intern)
        return interned.allSatisfy({ byType[$0.key] === $0.value }) ? self : SnapshotLayer(byType: interned)
    }
}
