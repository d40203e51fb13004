import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Listeners a Sidecar's `ingress` section asks for: bound to `bind:port`, forwarding to the
/// application at `defaultEndpoint` through cluster `inbound|PORT||`.
enum InboundListeners {
    static func add(_ ingress: IstioIngressListener, proxy: Proxy, to resources: inout ResourceSet) {
        let port = ingress.port.number
        let clusterName = ClusterName.inbound(port: port)
        let bind = ingress.bind ?? defaultBind(proxy)
        var cluster = OutboundClusters.base(name: clusterName, protocol: ingress.port.protocol)
        cluster.type = .static
        let (host, targetPort) = endpoint(ingress.defaultEndpoint, proxy: proxy, port: ingress.port.targetPort ?? port)
        cluster.loadAssignment = ClusterLoadAssignments.dnsAssignment(name: clusterName, host: host, port: targetPort)

        var chain = Envoy_Config_Listener_V3_FilterChain()
        if ingress.port.protocol.isHTTP {
            var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
            manager.statPrefix = clusterName
            manager.routeConfig = routeConfiguration(port: port, cluster: clusterName)
            manager.httpFilters = [HTTPFilters.router]
            chain.filters = [OutboundListeners.networkFilter("envoy.filters.network.http_connection_manager", manager)]
        } else {
            chain.filters = [OutboundListeners.tcpProxy(statPrefix: clusterName, cluster: clusterName)]
        }
        var listener = OutboundListeners.listener(port: port, bind: bind, bindToPort: true, chain: chain)
        listener.trafficDirection = .inbound
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
