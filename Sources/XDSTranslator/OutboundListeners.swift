import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Outbound listeners, one per service port. Under iptables (REDIRECT) they only match traffic
/// the virtual outbound listener hands them (bind_to_port false); with INTERCEPTION_MODE NONE
/// the application talks to them directly, so they bind 127.0.0.1 (or a Sidecar egress `bind`).
enum OutboundListeners {
    typealias Listener = Envoy_Config_Listener_V3_Listener

    static func httpListener(port: UInt32, bind: String, bindToPort: Bool) -> Listener {
        var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        manager.statPrefix = "outbound_\(bind)_\(port)"
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = .aggregated
        rds.routeConfigName = String(port)
        manager.rds = rds
        manager.httpFilters = HTTPFilters.outbound
        manager.useRemoteAddress = Google_Protobuf_BoolValue(false)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [networkFilter("envoy.filters.network.http_connection_manager", manager)]
        return listener(port: port, bind: bind, bindToPort: bindToPort, chain: chain)
    }

    static func tcpListener(port: UInt32, bind: String, bindToPort: Bool, cluster: String) -> Listener {
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [tcpProxy(statPrefix: cluster, cluster: cluster)]
        return listener(port: port, bind: bind, bindToPort: bindToPort, chain: chain)
    }

    static func listener(
        port: UInt32, bind: String, bindToPort: Bool, chain: Envoy_Config_Listener_V3_FilterChain
    ) -> Listener {
        var listener = Listener()
        listener.name = "\(bind)_\(port)"
        listener.address = .socket(bind, port: port)
        listener.trafficDirection = .outbound
        listener.filterChains = [chain]
        if !bindToPort { listener.bindToPort = Google_Protobuf_BoolValue(false) }
        return listener
    }

    static func tcpProxy(statPrefix: String, cluster: String) -> Envoy_Config_Listener_V3_Filter {
        var proxy = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy()
        proxy.statPrefix = statPrefix
        proxy.cluster = cluster
        return networkFilter("envoy.filters.network.tcp_proxy", proxy)
    }

    static func networkFilter<M: SwiftProtobuf.Message>(_ name: String, _ config: M) -> Envoy_Config_Listener_V3_Filter {
        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = name
        filter.typedConfig = packed(config)
        return filter
    }

    /// Istio's `virtualOutbound` on 15001: iptables sends every outbound connection here; it
    /// hands it to the listener of the original destination port, or passes it through.
    static func virtualOutbound(fallbackCluster: String) -> Listener {
        var listener = Listener()
        listener.name = "virtualOutbound"
        listener.address = .socket("0.0.0.0", port: 15001)
        listener.useOriginalDst = Google_Protobuf_BoolValue(true)
        listener.trafficDirection = .outbound
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.name = fallbackCluster
        chain.filters = [tcpProxy(statPrefix: fallbackCluster, cluster: fallbackCluster)]
        listener.defaultFilterChain = chain
        return listener
    }
}

/// HTTP filter chains.
enum HTTPFilters {
    static var router: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = "envoy.filters.http.router"
        filter.typedConfig = packed(Envoy_Extensions_Filters_Http_Router_V3_Router())
        return filter
    }

    static func named<M: SwiftProtobuf.Message>(_ name: String, _ config: M)
        -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter
    {
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = name
        filter.typedConfig = packed(config)
        return filter
    }

    /// Fault and CORS are configured per route (VirtualService `fault`, `corsPolicy`); the
    /// filters themselves are always present, empty, as in Istio.
    static var outbound: [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        [
            named(HTTPFilterConfigs.faultFilter, Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()),
            named(HTTPFilterConfigs.corsFilter, Envoy_Extensions_Filters_Http_Cors_V3_Cors()),
            router,
        ]
    }
}
