public import EnvoyAPI
import SwiftProtobuf

extension Envoy_Config_Listener_V3_Listener {
    /// The route configurations (RDS names) this listener's HTTP connection managers take their
    /// routes from, in its filter chains or its API listener (proxyless gRPC). A manager whose
    /// config cannot be decoded names none.
    public var routeConfigurationNames: Set<String> {
        typealias Manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
        var packed = filterChains.flatMap(\.filters).compactMap { filter -> Google_Protobuf_Any? in
            guard case .typedConfig(let config)? = filter.configType else { return nil }
            return config
        }
        if hasApiListener { packed.append(apiListener.apiListener) }
        var names: Set<String> = []
        for any in packed where any.isA(Manager.self) {
            guard let manager = try? Manager(unpackingAny: any), case .rds(let rds)? = manager.routeSpecifier else { continue }
            names.insert(rds.routeConfigName)
        }
        return names
    }
}
