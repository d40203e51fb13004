import EnvoyAPI
import MeshAPI
import SwiftProtobuf
import XDSCache

/// A gateway proxy's listeners, from the servers of the Gateways that select it (Istio's
/// buildGatewayListeners): one listener `BIND_PORT` per bind address and port, bound for real;
/// its filter chains, in order:
/// - the plaintext HTTP servers of the port, together, on route configuration `http.PORT`;
/// - each HTTPS server terminating TLS, matched by SNI (`server_names` = its hosts), on its own
///   route configuration `https.PORT.PORTNAME.GATEWAY.NAMESPACE`;
/// - PASSTHROUGH servers: one chain per bound `tls` route match, by SNI, proxied as TCP;
/// - TLS servers terminating TLS, and TCP servers: the first bound `tcp` route that applies.
/// A name already claimed by an earlier chain is not claimed again (Envoy rejects a listener
/// whose chains share a match). A server that cannot serve TLS has no chain (see `GatewayTLS`);
/// a listener left with no chain is not sent, so its port refuses connections.
enum GatewayListeners {
    typealias FilterChain = Envoy_Config_Listener_V3_FilterChain
    typealias Listener = Envoy_Config_Listener_V3_Listener

    /// Istio's ALPN for HTTPS servers.
    static let httpsALPN = ["h2", "http/1.1"]

    static func add(context: TranslationContext, to resources: inout ResourceSet) {
        let tls = GatewayTLS(context: context)
        let bindings = GatewayRoutes.bindings(context: context)
        for (bind, port, servers) in GatewayServers.listeners(for: context.proxy, in: context.config) {
            var chains = ChainSet()
            let statPrefix = "outbound_\(bind)_\(port)"
            let plaintext = servers.filter { $0.handling == .http }
            if !plaintext.isEmpty {
                let name = GatewayServer.httpRouteName(port: port)
                addRoutes(name: name, port: port, servers: plaintext, bindings: bindings, context: context, to: &resources)
                chains.add(names: [], httpChain(route: name, statPrefix: statPrefix))
            }
            for server in servers {
                switch server.handling {
                case .http:
                    break
                case .https:
                    let names = chains.unclaimed(server.serverNames)
                    guard let names,
                        let socket = tls.transportSocket(for: server, alpn: httpsALPN, resources: &resources)
                    else { continue }
                    addRoutes(
                        name: server.httpsRouteName, port: port, servers: [server], bindings: bindings, context: context,
                        to: &resources)
                    var chain = httpChain(route: server.httpsRouteName, statPrefix: statPrefix)
                    chain.transportSocket = socket
                    chains.add(names: names, chain)
                case .passthrough:
                    for (names, targets) in GatewayTCPRoutes.passthrough(server, port: port, bindings: bindings, context: context) {
                        guard let names = chains.unclaimed(names) else { continue }
                        var chain = FilterChain()
                        chain.filters = [TCPRoutes.proxy(statPrefix: targets[0].0, targets)]
                        chains.add(names: names, chain, clusters: targets.map(\.0))
                    }
                case .terminatedTLS, .tcp:
                    let names = server.handling == .tcp ? [] : server.serverNames
                    guard let names = chains.unclaimed(names),
                        let targets = GatewayTCPRoutes.tcp(server, port: port, bindings: bindings, context: context)
                    else { continue }
                    var chain = FilterChain()
                    if server.handling == .terminatedTLS {
                        guard let socket = tls.transportSocket(for: server, alpn: [], resources: &resources) else { continue }
                        chain.transportSocket = socket
                    }
                    chain.filters = [TCPRoutes.proxy(statPrefix: targets[0].0, targets)]
                    chains.add(names: names, chain, clusters: targets.map(\.0))
                }
            }
            guard !chains.chains.isEmpty else { continue }
            var listener = OutboundListeners.listener(port: port, bind: bind, bindToPort: true, chain: chains.chains[0])
            listener.filterChains = chains.chains
            if chains.chains.contains(where: { !$0.filterChainMatch.serverNames.isEmpty || $0.hasTransportSocket }) {
                // SNI (and whether the client speaks TLS at all) is read from the ClientHello.
                var inspector = Envoy_Config_Listener_V3_ListenerFilter()
                inspector.name = "envoy.filters.listener.tls_inspector"
                inspector.typedConfig = packed(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())
                listener.listenerFilters = [inspector]
            }
            resources.add(.listener, listener.name, listener, references: chains.clusters)
        }
    }

    private static func addRoutes(
        name: String, port: UInt32, servers: [GatewayServer], bindings: [String: [Resource<VirtualService>]],
        context: TranslationContext, to resources: inout ResourceSet
    ) {
        guard !resources.contains(.route, name) else { return }
        let routes = GatewayRoutes.routeConfiguration(name: name, port: port, servers: servers, bindings: bindings, context: context)
        resources.add(.route, name, routes, references: ProxyTranslator.clusters(in: routes))
    }

    /// An HTTP connection manager on route configuration `route`. A gateway is the mesh's
    /// edge: it trusts the client address it sees (`use_remote_address`) and replaces any
    /// `x-forwarded-client-cert` a client sends with what it verified itself.
    static func httpChain(route: String, statPrefix: String) -> FilterChain {
        var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        manager.statPrefix = statPrefix
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = .aggregated
        rds.routeConfigName = route
        manager.rds = rds
        manager.httpFilters = HTTPFilters.outbound
        manager.useRemoteAddress = Google_Protobuf_BoolValue(true)
        manager.forwardClientCertDetails = .sanitizeSet
        var details = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.SetCurrentClientCertDetails()
        details.subject = Google_Protobuf_BoolValue(true)
        details.dns = true
        details.uri = true
        manager.setCurrentClientCertDetails = details
        var chain = FilterChain()
        chain.filters = [OutboundListeners.networkFilter("envoy.filters.network.http_connection_manager", manager)]
        return chain
    }
}

/// The filter chains of one gateway listener as they are collected: each SNI name (or "no
/// name") is claimed by the first chain that asks for it.
private struct ChainSet {
    private(set) var chains: [Envoy_Config_Listener_V3_FilterChain] = []
    private(set) var clusters: Set<String> = []
    private var claimed: Set<String> = []

    /// The names not claimed yet (all of them, or [] for a chain without names when that is
    /// still free); nil when nothing is left for the chain.
    func unclaimed(_ names: [String]) -> [String]? {
        guard !names.isEmpty else { return claimed.contains("") ? nil : [] }
        let free = names.filter { !claimed.contains($0) }
        return free.isEmpty ? nil : free
    }

    mutating func add(names: [String], _ chain: Envoy_Config_Listener_V3_FilterChain, clusters: [String] = []) {
        var chain = chain
        chain.filterChainMatch.serverNames = names
        claimed.formUnion(names.isEmpty ? [""] : names)
        chains.append(chain)
        self.clusters.formUnion(clusters)
    }
}
