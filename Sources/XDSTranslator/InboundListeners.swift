import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// The proxy's inbound side: one cluster `inbound|PORT||` to the application per inbound port,
/// reached either through a listener of its own (`bind:port`, no iptables) or through a filter
/// chain of Istio's `virtualInbound` on 15006, where iptables sends every inbound connection.
/// Each port runs the mTLS mode PeerAuthentication gives it and the workload's authorization.
enum InboundListeners {
    typealias FilterChain = Envoy_Config_Listener_V3_FilterChain

    static let virtualInboundPort: UInt32 = 15006

    static func add(context: TranslationContext, to resources: inout ResourceSet) {
        let builder = InboundChains(context: context)
        var virtualChains: [FilterChain] = []
        var clusters: Set<String> = []
        for port in InboundPort.ports(for: context) {
            var cluster = OutboundClusters.base(name: port.clusterName, protocol: port.protocol)
            cluster.type = .static
            cluster.loadAssignment = ClusterLoadAssignments.dnsAssignment(
                name: port.clusterName, host: port.endpointHost, port: port.endpointPort)
            resources.add(.cluster, port.clusterName, cluster)
            clusters.insert(port.clusterName)

            if port.protocol.isHTTP {
                resources.add(.route, port.clusterName, builder.routeConfiguration(for: port), references: [port.clusterName])
            }
            let chains = builder.chains(for: port)
            guard let bind = port.bind else {
                virtualChains += chains.map { chain in
                    var chain = chain
                    chain.filterChainMatch.destinationPort = Google_Protobuf_UInt32Value(port.number)
                    return chain
                }
                continue
            }
            var listener = OutboundListeners.listener(port: port.number, bind: bind, bindToPort: true, chain: chains[0])
            listener.trafficDirection = .inbound
            listener.filterChains = chains
            if chains.count > 1 { listener.listenerFilters = [InboundChains.tlsInspector] }
            resources.add(.listener, listener.name, listener, references: [port.clusterName, ClusterName.blackHole])
        }
        guard context.proxy.interceptionMode != .none else { return }
        resources.add(.cluster, ClusterName.inboundPassthrough, OutboundClusters.originalDestination(ClusterName.inboundPassthrough))
        let listener = virtualInbound(chains: virtualChains, passthrough: builder.passthroughChains())
        resources.add(.listener, listener.name, listener, references: clusters.union([ClusterName.inboundPassthrough, ClusterName.blackHole]))
    }

    /// Istio's `virtualInbound`: restores the original destination, then picks the chain of that
    /// port; ports the workload does not declare pass through to where they were going.
    static func virtualInbound(chains: [FilterChain], passthrough: [FilterChain]) -> Envoy_Config_Listener_V3_Listener {
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = "virtualInbound"
        listener.address = .socket("0.0.0.0", port: virtualInboundPort)
        listener.trafficDirection = .inbound
        var originalDestination = Envoy_Config_Listener_V3_ListenerFilter()
        originalDestination.name = "envoy.filters.listener.original_dst"
        originalDestination.typedConfig = packed(Envoy_Extensions_Filters_Listener_OriginalDst_V3_OriginalDst())
        listener.listenerFilters = [originalDestination, InboundChains.tlsInspector]
        // A client that speaks first decides the chain; one that waits for the server (MySQL,
        // SMTP) must not hang on the TLS inspector.
        listener.continueOnListenerFiltersTimeout = true
        listener.filterChains = chains + passthrough
        return listener
    }
}

/// The filter chains of one inbound port (or the passthrough), in the port's mTLS mode:
/// STRICT accepts only mesh mTLS, DISABLE only plaintext, PERMISSIVE both (told apart by the
/// TLS inspector: mesh clients offer Istio's ALPN).
struct InboundChains {
    typealias FilterChain = Envoy_Config_Listener_V3_FilterChain
    typealias Mode = PeerAuthentications.Mode

    let context: TranslationContext
    let authorization: AuthorizationPolicies

    init(context: TranslationContext) {
        self.context = context
        authorization = AuthorizationPolicies(
            config: context.config, proxy: context.proxy, rootNamespace: context.config.rootNamespace)
    }

    static var tlsInspector: Envoy_Config_Listener_V3_ListenerFilter {
        var inspector = Envoy_Config_Listener_V3_ListenerFilter()
        inspector.name = "envoy.filters.listener.tls_inspector"
        inspector.typedConfig = packed(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())
        return inspector
    }

    /// The port's PeerAuthentication mode. A proxy without credentials cannot terminate mTLS,
    /// so it serves PERMISSIVE ports as plaintext only, and STRICT ports not at all: an error
    /// never weakens STRICT to plaintext.
    private func mode(port: UInt32?) -> Mode {
        PeerAuthentications.mode(
            for: context.proxy, port: port, in: context.config, rootNamespace: context.config.rootNamespace)
    }

    func chains(for port: InboundPort) -> [FilterChain] {
        chains(mode: mode(port: port.number), name: port.clusterName) { mutualTLS in
            filters(port: port, mutualTLS: mutualTLS)
        }
    }

    /// Connections to ports no service declares, forwarded to their original destination.
    func passthroughChains() -> [FilterChain] {
        let cluster = ClusterName.inboundPassthrough
        return chains(mode: mode(port: nil), name: cluster) { _ in
            authorization.networkFilters + [OutboundListeners.tcpProxy(statPrefix: cluster, cluster: cluster)]
        }
    }

    /// STRICT takes every connection into mTLS (a client without a mesh certificate fails the
    /// handshake); PERMISSIVE sends TLS offering Istio's ALPN there and the rest to plaintext.
    private func chains(mode: Mode, name: String, filters: (Bool) -> [Envoy_Config_Listener_V3_Filter]) -> [FilterChain] {
        func chain(mutualTLS: Bool) -> FilterChain {
            var chain = FilterChain()
            chain.name = mutualTLS ? name + "-mtls" : name
            chain.filters = filters(mutualTLS)
            if mutualTLS { chain.transportSocket = MutualTLS.downstream() }
            return chain
        }
        guard context.trustDomain != nil else {
            return mode == .strict ? [Self.refusing(name: name)] : [chain(mutualTLS: false)]
        }
        switch mode {
        case .strict:
            return [chain(mutualTLS: true)]
        case .permissive:
            var secure = chain(mutualTLS: true)
            secure.filterChainMatch.transportProtocol = "tls"
            secure.filterChainMatch.applicationProtocols = MutualTLS.alpn
            return [secure, chain(mutualTLS: false)]
        case .disable, .unset:
            return [chain(mutualTLS: false)]
        }
    }

    /// A STRICT port of a proxy that has no certificate: every connection is closed (RBAC that
    /// allows nothing) before it reaches the application. The chain is named for operators
    /// reading a config dump.
    static func refusing(name: String) -> FilterChain {
        var chain = FilterChain()
        chain.name = name + "-strict-no-credentials"
        var denyAll = Envoy_Extensions_Filters_Network_Rbac_V3_RBAC()
        denyAll.rules.action = .allow  // ALLOW with no policies matches nothing: deny all
        denyAll.statPrefix = "strict_no_credentials."
        chain.filters = [
            OutboundListeners.networkFilter("envoy.filters.network.rbac", denyAll),
            // Envoy requires a terminal filter; RBAC has closed the connection before it.
            OutboundListeners.tcpProxy(statPrefix: name, cluster: ClusterName.blackHole),
        ]
        return chain
    }

    private func filters(port: InboundPort, mutualTLS: Bool) -> [Envoy_Config_Listener_V3_Filter] {
        let cluster = port.clusterName
        guard port.protocol.isHTTP else {
            return authorization.networkFilters + [OutboundListeners.tcpProxy(statPrefix: cluster, cluster: cluster)]
        }
        var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        manager.statPrefix = cluster
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = .aggregated
        rds.routeConfigName = cluster
        manager.rds = rds
        manager.httpFilters = AuthorizationPolicies.httpFilters + [HTTPFilters.router]
        if mutualTLS {
            // The application learns who called: the caller's SPIFFE id in XFCC.
            manager.forwardClientCertDetails = .appendForward
            var details = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.SetCurrentClientCertDetails()
            details.subject = Google_Protobuf_BoolValue(true)
            details.uri = true
            details.dns = true
            manager.setCurrentClientCertDetails = details
        } else {
            manager.forwardClientCertDetails = .sanitize
        }
        return [OutboundListeners.networkFilter("envoy.filters.network.http_connection_manager", manager)]
    }

    /// The route configuration an inbound HTTP port's chains share, named like its cluster:
    /// everything to the application, behind the workload's authorization policies.
    func routeConfiguration(for port: InboundPort) -> Envoy_Config_Route_V3_RouteConfiguration {
        let cluster = port.clusterName
        var config = Envoy_Config_Route_V3_RouteConfiguration()
        config.name = cluster
        config.validateClusters = Google_Protobuf_BoolValue(false)
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = "inbound|http|\(port.number)"
        host.domains = ["*"]
        var route = Envoy_Config_Route_V3_Route()
        route.name = "default"
        route.match = RouteMatches.catchAll
        route.route = OutboundRoutes.routeAction(cluster: cluster)
        route.typedPerFilterConfig = authorization.perRouteConfig
        host.routes = [route]
        config.virtualHosts = [host]
        return config
    }
}
