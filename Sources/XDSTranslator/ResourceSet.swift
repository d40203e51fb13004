import EnvoyAPI
import SwiftProtobuf
import XDSCache

/// The resources of one proxy's snapshot as the builders produce them. The first resource of a
/// name wins, so that a more specific builder (an egress listener with a port) is not
/// overwritten by a general one.
struct ResourceSet {
    private(set) var resources: [XDSResource] = []
    private var names: Set<String> = []

    mutating func add<M: SwiftProtobuf.Message>(
        _ type: ResourceType, _ name: String, _ message: M, references: Set<String> = []
    ) {
        guard names.insert(type.typeURL + "/" + name).inserted else { return }
        let routes = (message as? Envoy_Config_Listener_V3_Listener).map(Self.routeConfigurations(of:)) ?? []
        // Serializing a message built in memory cannot fail.
        resources.append(
            try! XDSResource(type, name: name, message: message, referencedClusters: references, referencedRoutes: routes))
    }

    /// The RDS names a listener's HTTP connection managers (filter chains or API listener) use.
    static func routeConfigurations(of listener: Envoy_Config_Listener_V3_Listener) -> Set<String> {
        typealias Manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
        var packed = listener.filterChains.flatMap(\.filters).compactMap { filter -> Google_Protobuf_Any? in
            guard case .typedConfig(let config)? = filter.configType else { return nil }
            return config
        }
        if listener.hasApiListener { packed.append(listener.apiListener.apiListener) }
        var names: Set<String> = []
        for any in packed where any.isA(Manager.self) {
            // Our own message, packed a moment ago: decoding it cannot fail.
            let manager = try! Manager(unpackingAny: any)
            if case .rds(let rds)? = manager.routeSpecifier { names.insert(rds.routeConfigName) }
        }
        return names
    }

    func contains(_ type: ResourceType, _ name: String) -> Bool {
        names.contains(type.typeURL + "/" + name)
    }
}
