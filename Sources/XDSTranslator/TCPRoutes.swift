import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Outbound listeners for TCP and TLS ports: a VirtualService's `tcp` routes pick weighted
/// destinations, its `tls` routes pick them by SNI; without one, traffic goes to the service.
/// On a TLS port shared by several services the ClientHello's SNI is all that tells them apart
/// (as in Istio for listeners without a service VIP): a service no `tls` route covers is matched
/// by its own host name.
enum TCPRoutes {
    typealias Listener = Envoy_Config_Listener_V3_Listener
    typealias FilterChain = Envoy_Config_Listener_V3_FilterChain

    /// `services` are those on `port`, in a stable order; the first is the fallback for
    /// connections no chain matches.
    static func listener(
        port: UInt32, bind: String, bindToPort: Bool, services: [MeshService], context: TranslationContext
    ) -> (Listener, Set<String>) {
        let first = services[0]
        let fallback = ClusterName.outbound(first.hostname, port: port)
        var referenced: Set<String> = [fallback]
        var chains: [FilterChain] = []
        // Envoy rejects a listener whose chains share a match, so a name goes to the first
        // route that claims it.
        var claimedNames: Set<String> = []
        var defaultFilter = OutboundListeners.tcpProxy(statPrefix: fallback, cluster: fallback)

        func sniChain(_ names: [String], _ targets: [(String, UInt32)]) {
            let names = names.filter { claimedNames.insert($0).inserted }
            guard !names.isEmpty else { return }
            var chain = FilterChain()
            chain.filterChainMatch.serverNames = names
            chain.filterChainMatch.transportProtocol = "tls"
            chain.filters = [proxy(statPrefix: fallback, targets)]
            chains.append(chain)
            referenced.formUnion(targets.map(\.0))
        }

        var seenVirtualServices: Set<ResourceKey> = []
        var routedByTLS: Set<String> = []
        for service in services {
            guard let virtualService = context.virtualService(for: service) else { continue }
            let namespace = virtualService.namespace
            let applicable = virtualService.spec.tls.filter { route in
                route.match.contains { ($0.port ?? port) == port && applies($0.sourceLabels, context) }
            }
            if !applicable.isEmpty { routedByTLS.insert(service.hostname) }
            guard seenVirtualServices.insert(virtualService.key).inserted else { continue }
            func destinations(_ routes: [RouteDestination]) -> [(String, UInt32)] {
                routes.map {
                    (context.clusterName(for: $0.destination, from: namespace, listenerPort: port),
                     UInt32(max($0.weight, 0)))
                }
            }
            for route in applicable {
                let matches = route.match.filter { ($0.port ?? port) == port && applies($0.sourceLabels, context) }
                sniChain(matches.flatMap(\.sniHosts), destinations(route.route))
            }
            if service.hostname == first.hostname,
                let route = virtualService.spec.tcp.first(where: { route in
                    route.match.isEmpty
                        || route.match.contains { ($0.port ?? port) == port && applies($0.sourceLabels, context) }
                })
            {
                let targets = destinations(route.route)
                referenced.formUnion(targets.map(\.0))
                defaultFilter = proxy(statPrefix: fallback, targets)
            }
        }
        if first.port(port)?.protocol.isTLS == true && services.count > 1 {
            for service in services where !routedByTLS.contains(service.hostname) {
                let cluster = ClusterName.outbound(service.hostname, port: port)
                sniChain([service.hostname], [(cluster, 1)])
            }
        }

        var defaultChain = FilterChain()
        defaultChain.filters = [defaultFilter]
        var listener = OutboundListeners.listener(port: port, bind: bind, bindToPort: bindToPort, chain: defaultChain)
        if !chains.isEmpty {
            listener.filterChains = chains
            listener.defaultFilterChain = defaultChain
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
