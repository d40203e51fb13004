import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Outbound listeners for TCP and TLS ports: a VirtualService's `tcp` routes pick weighted
/// destinations (by destination subnet when a match names some), its `tls` routes pick them by
/// SNI; without one, traffic goes to the service. On a TLS port shared by several services the
/// ClientHello's SNI is all that tells them apart (as in Istio for listeners without a service
/// VIP): a service no `tls` route covers is matched by its own host name. A service reached at
/// CIDR `addresses` has its chains limited to those destinations (Istio's destinationCIDRs).
enum TCPRoutes {
    typealias Listener = Envoy_Config_Listener_V3_Listener
    typealias FilterChain = Envoy_Config_Listener_V3_FilterChain

    /// A service on the listener and the destination ranges its connections are told apart by
    /// (its CIDR addresses); none means any destination.
    struct Member {
        var service: MeshService
        var destinationRanges: [String] = []
    }

    /// `members` are the services on `port`, in a stable order; the first without destination
    /// ranges is the fallback for connections no chain matches.
    static func listener(
        port: UInt32, bind: String, bindToPort: Bool, members: [Member], context: TranslationContext
    ) -> (Listener, Set<String>) {
        var chains = ChainSet(statPrefix: ClusterName.outbound(members[0].service.hostname, port: port))
        let sharedTLSPort = members.count > 1 && tlsPort(members[0].service, port)
        // Every `tls` route first, so that a route claiming a name beats a service's own name.
        let routedByTLS = members.map { addTLSRouteChains(for: $0, port: port, context: context, to: &chains) }
        for (member, routed) in zip(members, routedByTLS) {
            addServiceChains(
                for: member, routedByTLS: routed, port: port, sharedTLSPort: sharedTLSPort, context: context, to: &chains)
        }
        if chains.fallback == nil {
            // Only services at CIDR addresses share this listener: what none of them claims is
            // traffic to an unknown destination.
            let cluster = context.outboundTrafficPolicy == .allowAny ? ClusterName.passthrough : ClusterName.blackHole
            chains.add(serverNames: [], ranges: [], [(cluster, 1)])
        }

        var defaultChain = FilterChain()
        defaultChain.filters = [chains.fallback!]
        var listener = OutboundListeners.listener(port: port, bind: bind, bindToPort: bindToPort, chain: defaultChain)
        if !chains.matched.isEmpty {
            listener.filterChains = chains.matched
            listener.defaultFilterChain = defaultChain
        }
        if chains.matched.contains(where: { !$0.filterChainMatch.serverNames.isEmpty }) {
            var inspector = Envoy_Config_Listener_V3_ListenerFilter()
            inspector.name = "envoy.filters.listener.tls_inspector"
            inspector.typedConfig = packed(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())
            listener.listenerFilters = [inspector]
        }
        return (listener, chains.referenced)
    }

    /// The chains of the `tls` routes of a service's VirtualService (Istio's
    /// buildSidecarOutboundTLSFilterChainOpts); true when one applies to this proxy and port.
    private static func addTLSRouteChains(
        for member: Member, port: UInt32, context: TranslationContext, to chains: inout ChainSet
    ) -> Bool {
        guard let virtualService = context.virtualService(for: member.service) else { return false }
        var routed = false
        for route in virtualService.spec.tls {
            for match in route.match where applies(match, port: port, context) {
                routed = true
                chains.add(
                    serverNames: match.sniHosts,
                    ranges: match.destinationSubnets.isEmpty ? member.destinationRanges : match.destinationSubnets,
                    destinations(route.route, of: virtualService, port: port, context))
            }
        }
        return routed
    }

    /// A service's `tcp` routes (Istio's buildSidecarOutboundTCPFilterChainOpts), then the
    /// service itself: by its own host name on a shared TLS port, and for whatever is left.
    private static func addServiceChains(
        for member: Member, routedByTLS: Bool, port: UInt32, sharedTLSPort: Bool, context: TranslationContext,
        to chains: inout ChainSet
    ) {
        let service = member.service
        let ranges = member.destinationRanges
        var takesAll = false
        if let virtualService = context.virtualService(for: service) {
            // The first route that matches whatever the destination ends the list; routes
            // before it that match only some destination subnets get chains of their own.
            routes: for route in virtualService.spec.tcp {
                var subnets: [String] = []
                takesAll = route.match.isEmpty
                for match in route.match where applies(match, port: port, context) {
                    guard !match.destinationSubnets.isEmpty else {
                        takesAll = true
                        break
                    }
                    subnets += match.destinationSubnets
                }
                let targets = destinations(route.route, of: virtualService, port: port, context)
                if takesAll {
                    chains.add(serverNames: [], ranges: ranges, targets)
                    break routes
                }
                if !subnets.isEmpty { chains.add(serverNames: [], ranges: subnets, targets) }
            }
        }
        let ownCluster = [(ClusterName.outbound(service.hostname, port: port), UInt32(1))]
        let tls = tlsPort(service, port)
        if tls && !routedByTLS && (sharedTLSPort || !ranges.isEmpty) {
            chains.add(serverNames: [service.hostname], ranges: ranges, ownCluster)
        }
        // A TLS service at CIDR addresses is only ever matched by its host name, as in Istio.
        if !takesAll && !(tls && !ranges.isEmpty) {
            chains.add(serverNames: [], ranges: ranges, ownCluster)
        }
    }

    private static func destinations(
        _ routes: [RouteDestination], of virtualService: Resource<VirtualService>, port: UInt32, _ context: TranslationContext
    ) -> [(String, UInt32)] {
        routes.map {
            (context.clusterName(for: $0.destination, from: virtualService.namespace, listenerPort: port),
             UInt32(max($0.weight, 0)))
        }
    }

    private static func tlsPort(_ service: MeshService, _ port: UInt32) -> Bool {
        service.port(port)?.protocol.isTLS == true
    }

    /// Istio's matchTCP / matchTLS: the conditions a proxy's config can decide up front.
    private static func applies(_ match: L4MatchAttributes, port: UInt32, _ context: TranslationContext) -> Bool {
        applies(
            port: match.port, sourceLabels: match.sourceLabels, gateways: match.gateways,
            sourceNamespace: match.sourceNamespace, listenerPort: port, context)
    }

    private static func applies(_ match: TLSMatchAttributes, port: UInt32, _ context: TranslationContext) -> Bool {
        applies(
            port: match.port, sourceLabels: match.sourceLabels, gateways: match.gateways,
            sourceNamespace: match.sourceNamespace, listenerPort: port, context)
    }

    private static func applies(
        port: UInt32?, sourceLabels: [String: String], gateways: [String], sourceNamespace: String?,
        listenerPort: UInt32, _ context: TranslationContext
    ) -> Bool {
        (port ?? listenerPort) == listenerPort
            && (gateways.isEmpty || gateways.contains("mesh"))
            && (sourceNamespace ?? context.proxy.namespace) == context.proxy.namespace
            && sourceLabels.allSatisfy { context.proxy.labels[$0.key] == $0.value }
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

    /// Envoy's CidrRange for `ADDRESS/LENGTH`, or a bare address as a single host.
    static func cidrRange(_ text: String) -> Envoy_Config_Core_V3_CidrRange {
        var range = Envoy_Config_Core_V3_CidrRange()
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        range.addressPrefix = parts[0]
        let length = parts.count == 2 ? UInt32(parts[1]) : nil
        range.prefixLen = Google_Protobuf_UInt32Value(length ?? (parts[0].contains(":") ? 128 : 32))
        return range
    }
}

/// The filter chains of one TCP listener as they are collected. Envoy rejects a listener whose
/// chains share a match, so the first chain to claim a (destination ranges, server name) pair
/// keeps it, and the first chain matching everything becomes the fallback.
private struct ChainSet {
    typealias FilterChain = Envoy_Config_Listener_V3_FilterChain

    let statPrefix: String
    private(set) var matched: [FilterChain] = []
    private(set) var fallback: Envoy_Config_Listener_V3_Filter?
    private(set) var referenced: Set<String> = []
    private var claimed: Set<String> = []

    init(statPrefix: String) {
        self.statPrefix = statPrefix
    }

    mutating func add(serverNames: [String], ranges: [String], _ targets: [(String, UInt32)]) {
        let rangeKey = ranges.sorted().joined(separator: ",")
        let filter = TCPRoutes.proxy(statPrefix: statPrefix, targets)
        if serverNames.isEmpty && ranges.isEmpty {
            guard fallback == nil else { return }
            fallback = filter
        } else {
            let keys = serverNames.isEmpty ? [""] : serverNames
            let names = keys.filter { claimed.insert(rangeKey + "|" + $0).inserted }
            guard !names.isEmpty else { return }
            var chain = FilterChain()
            if !serverNames.isEmpty {
                chain.filterChainMatch.serverNames = names
                chain.filterChainMatch.transportProtocol = "tls"
            }
            chain.filterChainMatch.prefixRanges = ranges.map(TCPRoutes.cidrRange)
            chain.filters = [filter]
            matched.append(chain)
        }
        referenced.formUnion(targets.map(\.0))
    }
}
