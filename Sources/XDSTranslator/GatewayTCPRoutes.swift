import MeshAPI

/// The `tls` and `tcp` routes of VirtualServices bound to a gateway server (Istio's
/// buildGatewayNetworkFiltersFromTLSRoutes / FromTCPRoutes): destinations with weights, as
/// TCPRoutes proxies to them.
enum GatewayTCPRoutes {
    typealias Targets = [(String, UInt32)]

    /// PASSTHROUGH: each `tls` match that applies here, as the SNI names it claims (its
    /// `sniHosts` that the server's hosts cover) and where it sends the connection.
    static func passthrough(
        _ server: GatewayServer, port: UInt32, bindings: [String: [Resource<VirtualService>]], context: TranslationContext
    ) -> [([String], Targets)] {
        var result: [([String], Targets)] = []
        for virtualService in bindings[server.gatewayName] ?? []
        where !GatewayRoutes.domainsFor(virtualService, on: server).isEmpty {
            for route in virtualService.spec.tls where !route.route.isEmpty {
                for match in route.match where applies(port: match.port, gateways: match.gateways, server, virtualService, port) {
                    var names: [String] = []
                    for sni in match.sniHosts {
                        for (namespace, host) in server.hosts where namespace == "*" || namespace == virtualService.namespace {
                            if let name = GatewayHosts.intersection(sni, host), name != "*", !names.contains(name) { names.append(name) }
                        }
                    }
                    if !names.isEmpty { result.append((names, targets(route.route, virtualService, port, context))) }
                }
            }
        }
        return result
    }

    /// TCP (and TLS terminated here): the first bound `tcp` route whose match applies (a route
    /// without matches always does).
    static func tcp(
        _ server: GatewayServer, port: UInt32, bindings: [String: [Resource<VirtualService>]], context: TranslationContext
    ) -> Targets? {
        for virtualService in bindings[server.gatewayName] ?? []
        where !GatewayRoutes.domainsFor(virtualService, on: server).isEmpty {
            for route in virtualService.spec.tcp where !route.route.isEmpty {
                if route.match.isEmpty
                    || route.match.contains(where: { applies(port: $0.port, gateways: $0.gateways, server, virtualService, port) })
                {
                    return targets(route.route, virtualService, port, context)
                }
            }
        }
        return nil
    }

    private static func applies(
        port matchPort: UInt32?, gateways: [String], _ server: GatewayServer, _ virtualService: Resource<VirtualService>,
        _ port: UInt32
    ) -> Bool {
        (matchPort ?? port) == port
            && (gateways.isEmpty
                || VirtualServiceRoutes.names(.gateway(server.gatewayName), in: gateways, namespace: virtualService.namespace))
    }

    private static func targets(
        _ routes: [RouteDestination], _ virtualService: Resource<VirtualService>, _ port: UInt32, _ context: TranslationContext
    ) -> Targets {
        routes.map {
            (context.clusterName(for: $0.destination, from: virtualService.namespace, listenerPort: port), UInt32(max($0.weight, 0)))
        }
    }
}
