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
        let routes = (message as? Envoy_Config_Listener_V3_Listener)?.routeConfigurationNames ?? []
        // Serializing a message built in memory cannot fail.
        resources.append(
            try! XDSResource(type, name: name, message: message, referencedClusters: references, referencedRoutes: routes))
    }

    func contains(_ type: ResourceType, _ name: String) -> Bool {
        names.contains(type.typeURL + "/" + name)
    }
}
