import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Listeners a Sidecar's `ingress` section asks for: bound to `bind:port`, forwarding to the
/// application at `defaultEndpoint` through cluster `inbound|PORT||`.
enum InboundListeners {
    static func add(_ ingress: IstioIngressListener, context: TranslationContext, to resources: inout ResourceSet) {
        let proxy = context.proxy
        let port = ingress.port.number
        let clusterName = ClusterName.inbound(port: port)
        let bind = ingress.bind ?? defaultBind(proxy)
        var cluster = OutboundClusters.base(name: clusterName, protocol: ingress.port.protocol)
        cluster.type = .static
        let (host, targetPort) = endpoint(ingress.defaultEndpoint, proxy: proxy, port: ingress.port.targetPort ?? port)
        cluster.loadAssignment = ClusterLoadAssignments.dnsAssignment(name: clusterName, host: host, port: targetPort)

        let authorization = AuthorizationPolicies(
            config: context.config, proxy: proxy, rootNamespace: TranslationContext.rootNamespace)
        let mode: PeerAuthentications.Mode =
            context.credentials == nil
            ? .disable
            : PeerAuthentications.mode(
                for: proxy, port: port, in: context.config, rootNamespace: TranslationContext.rootNamespace)

        func chain(mutualTLS: Bool) -> Envoy_Config_Listener_V3_FilterChain {
            var chain = Envoy_Config_Listener_V3_FilterChain()
            if ingress.port.protocol.isHTTP {
                var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
                manager.statPrefix = clusterName
                manager.routeConfig = routeConfiguration(port: port, cluster: clusterName)
                manager.httpFilters = authorization.httpFilters + [HTTPFilters.router]
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
                chain.filters = [OutboundListeners.networkFilter("envoy.filters.network.http_connection_manager", manager)]
            } else {
                chain.filters =
                    authorization.networkFilters(statPrefix: clusterName)
                    + [OutboundListeners.tcpProxy(statPrefix: clusterName, cluster: clusterName)]
            }
            if mutualTLS {
                chain.transportSocket = MutualTLS.downstream()
                chain.name = "\(clusterName)-mtls"
            }
            return chain
        }

        var listener = OutboundListeners.listener(port: port, bind: bind, bindToPort: true, chain: chain(mutualTLS: mode == .strict))
        listener.trafficDirection = .inbound
        if mode == .permissive {
            // TLS clients get the mTLS chain, everyone else the plaintext one.
            var secure = chain(mutualTLS: true)
            secure.filterChainMatch.transportProtocol = "tls"
            listener.filterChains = [secure, chain(mutualTLS: false)]
            var inspector = Envoy_Config_Listener_V3_ListenerFilter()
            inspector.name = "envoy.filters.listener.tls_inspector"
            inspector.typedConfig = packed(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())
            listener.listenerFilters = [inspector]
        }
        resources.add(.cluster, clusterName, cluster)
        resources.add(.listener, listener.name, listener, references: [clusterName])
    }

    static func routeConfiguration(port: UInt32, cluster: String) -> Envoy_Config_Route_V3_RouteConfiguration {
        var config = Envoy_Config_Route_V3_RouteConfiguration()
        config.name = cluster
        config.validateClusters = Google_Protobuf_BoolValue(false)
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = "inbound|http|\(port)"
        host.domains = ["*"]
        var route = Envoy_Config_Route_V3_Route()
        route.name = "default"
        route.match = RouteMatches.catchAll
        route.route = OutboundRoutes.routeAction(cluster: cluster)
        host.routes = [route]
        config.virtualHosts = [host]
        return config
    }

    /// Istio binds inbound listeners to the workload's IP when it is a routable unicast
    /// address, otherwise to the wildcard.
    static func defaultBind(_ proxy: Proxy) -> String {
        guard let ip = proxy.ipAddresses.first, !ip.hasPrefix("127."), ip != "::1" else { return "0.0.0.0" }
        return ip
    }

    /// `defaultEndpoint` is `127.0.0.1:PORT` or `0.0.0.0:PORT` (the workload's own IP).
    static func endpoint(_ text: String?, proxy: Proxy, port: UInt32) -> (String, UInt32) {
        guard let text, let colon = text.lastIndex(of: ":"), let number = UInt32(text[text.index(after: colon)...]) else {
            return ("127.0.0.1", port)
        }
        let host = String(text[..<colon])
        return (host == "0.0.0.0" ? (proxy.ipAddresses.first ?? "127.0.0.1") : host, number)
    }
}
