import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Outbound listeners for TCP and TLS ports: a VirtualService's `tcp` routes pick weighted
/// destinations, its `tls` routes pick them by SNI; without one, traffic goes to the service.
enum TCPRoutes {
    typealias Listener = Envoy_Config_Listener_V3_Listener

    static func listener(
        port: UInt32, bind: String, bindToPort: Bool, service: MeshService, context: TranslationContext
    ) -> (Listener, Set<String>) {
        let fallback = ClusterName.outbound(service.hostname, port: port)
        var referenced: Set<String> = [fallback]
        var chains: [Envoy_Config_Listener_V3_FilterChain] = []
        var defaultFilter = OutboundListeners.tcpProxy(statPrefix: fallback, cluster: fallback)
        var needsInspector = false

        if let virtualService = context.virtualService(for: service) {
            let namespace = virtualService.namespace
            func destinations(_ routes: [RouteDestination]) -> [(String, UInt32)] {
                routes.map {
                    (context.clusterName(for: $0.destination, from: namespace, listenerPort: port),
                     UInt32(max($0.weight, 0)))
                }
            }
            for route in virtualService.spec.tls {
                let matches = route.match.filter { ($0.port ?? port) == port && applies($0.sourceLabels, context) }
                guard !matches.isEmpty else { continue }
                let targets = destinations(route.route)
                referenced.formUnion(targets.map(\.0))
                var chain = Envoy_Config_Listener_V3_FilterChain()
                chain.filterChainMatch.serverNames = matches.flatMap(\.sniHosts)
                chain.filterChainMatch.transportProtocol = "tls"
                chain.filters = [proxy(statPrefix: fallback, targets)]
                chains.append(chain)
                needsInspector = true
            }
            if let route = virtualService.spec.tcp.first(where: { route in
                route.match.isEmpty
                    || route.match.contains { ($0.port ?? port) == port && applies($0.sourceLabels, context) }
            }) {
                let targets = destinations(route.route)
                referenced.formUnion(targets.map(\.0))
                defaultFilter = proxy(statPrefix: fallback, targets)
            }
        }
        var defaultChain = Envoy_Config_Listener_V3_FilterChain()
        defaultChain.filters = [defaultFilter]
        var listener = OutboundListeners.listener(port: port, bind: bind, bindToPort: bindToPort, chain: defaultChain)
        if !chains.isEmpty {
            listener.filterChains = chains
            listener.defaultFilterChain = defaultChain
        }
        if needsInspector {
            var inspector = Envoy_Config_Listener_V3_ListenerFilter()
            inspector.name = "envoy.filters.listener.tls_inspector"
            inspector.typedConfig = packed(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())
            listener.listenerFilters = [inspector]
        }
        return (listener, referenced)
    }

    private static func applies(_ sourceLabels: [String: String], _ context: TranslationContext) -> Bool {
        sourceLabels.allSatisfy { context.proxy.labels[$0.key] == $0.value }
    }

    /// A tcp_proxy to one cluster, or split by weight across several.
    static func proxy(statPrefix: String, _ targets: [(String, UInt32)]) -> Envoy_Config_Listener_V3_Filter {
        guard targets.count > 1 else {
            return OutboundListeners.tcpProxy(statPrefix: statPrefix, cluster: targets.first?.0 ?? ClusterName.blackHole)
        }
        var config = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy()
        config.statPrefix = statPrefix
        var weighted = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.WeightedCluster()
        weighted.clusters = targets.map { name, weight in
            var cluster = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.WeightedCluster.ClusterWeight()
            cluster.name = name
            cluster.weight = weight
            return cluster
        }
        config.weightedClusters = weighted
        return OutboundListeners.networkFilter("envoy.filters.network.tcp_proxy", config)
    }
}
