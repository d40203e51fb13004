import EnvoyAPI
import MeshAPI
import SwiftProtobuf

/// The route configurations of a gateway's HTTP servers (Istio's buildGatewayHTTPRouteConfig):
/// one virtual host per host that a bound VirtualService and a server both name (the more
/// specific of the two), whose routes are the VirtualService's, built by the same code as a
/// sidecar's. A host no VirtualService is bound for has no virtual host, so it answers 404; a
/// configuration with none at all gets Istio's `blackhole:PORT`, which answers everything 404.
enum GatewayRoutes {
    typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration
    typealias VirtualHost = Envoy_Config_Route_V3_VirtualHost

    static func routeConfiguration(
        name: String, port: UInt32, servers: [GatewayServer], bindings: [String: [Resource<VirtualService>]],
        context: TranslationContext
    ) -> RouteConfiguration {
        var config = RouteConfiguration()
        config.name = name
        config.validateClusters = Google_Protobuf_BoolValue(false)
        var hosts: [VirtualHost] = []
        var positions: [String: Int] = [:]
        for server in servers {
            for virtualService in bindings[server.gatewayName] ?? [] where !virtualService.spec.http.isEmpty {
                let domains = domainsFor(virtualService, on: server)
                guard !domains.isEmpty else { continue }
                let routes =
                    server.tls?.httpsRedirect == true
                    ? [httpsRedirect]
                    : VirtualServiceRoutes(
                        context: context, virtualService: virtualService, port: port, binding: .gateway(server.gatewayName)
                    ).routes()
                for domain in domains {
                    if let position = positions[domain] {
                        // Istio merges the routes of VirtualServices for the same host, in order.
                        if server.tls?.httpsRedirect != true { hosts[position].routes += routes }
                        continue
                    }
                    positions[domain] = hosts.count
                    var host = VirtualHost()
                    host.name = "\(domain):\(port)"
                    host.domains = virtualHostDomains(domain, port: port)
                    host.routes = routes
                    hosts.append(host)
                }
            }
        }
        if hosts.isEmpty {
            var blackhole = VirtualHost()
            blackhole.name = "blackhole:\(port)"
            blackhole.domains = ["*"]
            hosts.append(blackhole)
        }
        config.virtualHosts = hosts.map(OutboundRoutes.honouringGRPCTimeouts)
        return config
    }

    /// The VirtualServices bound to each Gateway (`gateways: [NS/NAME]`, or NAME in their own
    /// namespace) and exported to the gateway proxy's namespace, in namespace/name order; by
    /// `NAMESPACE/NAME`. Built once per translation: a gateway may have thousands of servers.
    static func bindings(context: TranslationContext) -> [String: [Resource<VirtualService>]] {
        var result: [String: [Resource<VirtualService>]] = [:]
        for resource in context.config.virtualServices
        where HostNames.isExported(resource.spec.exportTo, from: resource.namespace, to: context.proxy.namespace) {
            let names = Set(resource.spec.gateways.filter { $0 != "mesh" }.map { GatewayNames.qualified($0, namespace: resource.namespace) })
            for name in names.sorted() { result[name, default: []].append(resource) }
        }
        return result
    }

    /// The hosts a VirtualService and a server both name; a server host `NS/HOST` takes only
    /// VirtualServices of namespace NS.
    static func domainsFor(_ virtualService: Resource<VirtualService>, on server: GatewayServer) -> [String] {
        var result: [String] = []
        for host in virtualService.spec.hosts.map({ HostNames.fullyQualified($0, namespace: virtualService.namespace) }) {
            for (namespace, serverHost) in server.hosts where namespace == "*" || namespace == virtualService.namespace {
                if let domain = GatewayHosts.intersection(host, serverHost), !result.contains(domain) { result.append(domain) }
            }
        }
        return result
    }

    /// Istio's gateway domains: the host and the host with any port (a wildcard host keeps the
    /// listener's port: Envoy allows one wildcard per domain).
    static func virtualHostDomains(_ host: String, port: UInt32) -> [String] {
        if host == "*" { return ["*"] }
        return host.hasPrefix("*") ? [host, "\(host):\(port)"] : [host, "\(host):*"]
    }

    /// `tls.httpsRedirect`: every request is answered 301 to the same URL with `https://`.
    /// (Istio sets `require_tls: ALL` on the virtual host, which answers the same.)
    static var httpsRedirect: Envoy_Config_Route_V3_Route {
        var route = Envoy_Config_Route_V3_Route()
        route.name = "https_redirect"
        route.match = RouteMatches.catchAll
        var redirect = Envoy_Config_Route_V3_RedirectAction()
        redirect.httpsRedirect = true
        redirect.responseCode = .movedPermanently
        route.redirect = redirect
        return route
    }
}
