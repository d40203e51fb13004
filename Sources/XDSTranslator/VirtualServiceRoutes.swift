import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Where a VirtualService's routes are being built for: the sidecars (`mesh`), or one Gateway
/// (`NAMESPACE/NAME`). A match naming `gateways` applies only where it names.
enum RouteBinding: Equatable {
    case mesh
    case gateway(String)
}

/// The routes of a VirtualService's `http` section for one port, as a sidecar (for one service)
/// or a gateway (for one of its servers) sees them: both front-ends share this code. A
/// VirtualService replaces the service's default route entirely (unmatched requests get 404),
/// and routes after a catch-all are dropped, as in Istio.
struct VirtualServiceRoutes {
    typealias Route = Envoy_Config_Route_V3_Route

    let context: TranslationContext
    let virtualService: Resource<VirtualService>
    let port: UInt32
    var binding: RouteBinding = .mesh

    func routes() -> [Route] {
        var routes: [Route] = []
        for http in virtualService.spec.http {
            let matches: [HTTPMatchRequest?] = http.match.isEmpty ? [nil] : http.match
            var reachedCatchAll = false
            for match in matches {
                if let match, !applies(match) { continue }
                routes.append(route(http, match: match))
                if match.map(RouteMatches.isCatchAll) ?? true { reachedCatchAll = true }
            }
            if reachedCatchAll { break }
        }
        return routes
    }

    /// Whether a match can take traffic on this proxy and port at all (Istio's sourceMatchHTTP:
    /// a match naming `gateways` is decided by them alone, `sourceLabels` and `sourceNamespace`
    /// only count when it names none).
    private func applies(_ match: HTTPMatchRequest) -> Bool {
        if let matchPort = match.port, matchPort != port { return false }
        if !match.gateways.isEmpty { return Self.names(binding, in: match.gateways, namespace: virtualService.namespace) }
        if let namespace = match.sourceNamespace, namespace != context.proxy.namespace { return false }
        return match.sourceLabels.allSatisfy { context.proxy.labels[$0.key] == $0.value }
    }

    /// Whether a `gateways` list (of a VirtualService or a match) names `binding`; short
    /// Gateway names are in the VirtualService's namespace.
    static func names(_ binding: RouteBinding, in gateways: [String], namespace: String) -> Bool {
        switch binding {
        case .mesh: gateways.contains("mesh")
        case .gateway(let name): gateways.contains { $0 != "mesh" && GatewayNames.qualified($0, namespace: namespace) == name }
        }
    }

    private func route(_ http: HTTPRoute, match: HTTPMatchRequest?) -> Route {
        var route = Route()
        route.name = [http.name, match?.name].compactMap { $0 }.joined(separator: ".")
        route.match = match.map(RouteMatches.match) ?? RouteMatches.catchAll
        if let redirect = http.redirect {
            route.redirect = RouteActions.redirect(redirect)
        } else if let response = http.directResponse {
            route.directResponse = RouteActions.directResponse(response)
        } else {
            route.route = action(http)
        }
        if let fault = http.fault {
            route.typedPerFilterConfig[HTTPFilterConfigs.faultFilter] = packed(HTTPFilterConfigs.fault(fault))
        }
        if let cors = http.corsPolicy {
            route.typedPerFilterConfig[HTTPFilterConfigs.corsFilter] = packed(HTTPFilterConfigs.cors(cors))
        }
        route.requestHeadersToAdd = RouteActions.headersToAdd(http.headers?.request)
        route.requestHeadersToRemove = http.headers?.request?.remove ?? []
        route.responseHeadersToAdd = RouteActions.headersToAdd(http.headers?.response)
        route.responseHeadersToRemove = http.headers?.response?.remove ?? []
        if http.redirect == nil && http.directResponse == nil, http.route.count == 1 {
            Self.applyDestinationHeaders(http.route[0].headers, to: &route)
        }
        return route
    }

    /// Istio's processDestination: a lone destination's header edits go on the route, after
    /// the rule's own (so its `set` wins); its host header becomes the host rewrite unless the
    /// rule already rewrites the authority.
    private static func applyDestinationHeaders(_ headers: Headers?, to route: inout Route) {
        guard let headers else { return }
        route.requestHeadersToAdd += RouteActions.headersToAdd(headers.request)
        route.requestHeadersToRemove += headers.request?.remove ?? []
        route.responseHeadersToAdd += RouteActions.headersToAdd(headers.response)
        route.responseHeadersToRemove += headers.response?.remove ?? []
        if let host = RouteActions.hostRewrite(headers.request), case .route(var action)? = route.action,
            action.hostRewriteSpecifier == nil
        {
            action.hostRewriteLiteral = host
            route.route = action
        }
    }

    private func action(_ http: HTTPRoute) -> Envoy_Config_Route_V3_RouteAction {
        let destinations = http.route
        let clusters = destinations.map { cluster(for: $0.destination) }
        var action = OutboundRoutes.routeAction(cluster: clusters.first ?? ClusterName.blackHole)
        if destinations.count > 1 {
            var weighted = Envoy_Config_Route_V3_WeightedCluster()
            weighted.clusters = zip(destinations, clusters).map { destination, name in
                var cluster = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
                cluster.name = name
                cluster.weight = Google_Protobuf_UInt32Value(UInt32(max(destination.weight, 0)))
                cluster.requestHeadersToAdd = RouteActions.headersToAdd(destination.headers?.request)
                cluster.requestHeadersToRemove = destination.headers?.request?.remove ?? []
                cluster.responseHeadersToAdd = RouteActions.headersToAdd(destination.headers?.response)
                cluster.responseHeadersToRemove = destination.headers?.response?.remove ?? []
                if let host = RouteActions.hostRewrite(destination.headers?.request) { cluster.hostRewriteLiteral = host }
                return cluster
            }
            action.weightedClusters = weighted
        }
        if let timeout = http.timeout { action.timeout = Google_Protobuf_Duration(timeout) }
        if let rewrite = http.rewrite { RouteActions.applyRewrite(rewrite, to: &action) }
        if let host = RouteActions.hostRewrite(http.headers?.request) { action.hostRewriteLiteral = host }
        let hashPolicies =
            destinations.count == 1
            ? context.hashPolicies(for: destinations[0].destination, from: virtualService.namespace, listenerPort: port) : []
        action.hashPolicy = hashPolicies
        if let retry = RouteActions.retryPolicy(http.retries, consistentHashing: !hashPolicies.isEmpty) {
            action.retryPolicy = retry
        } else {
            action.clearRetryPolicy()
        }
        var mirrors: [(Destination, Double?)] = http.mirrors.map { ($0.destination, $0.percentage) }
        if let mirror = http.mirror { mirrors.insert((mirror, http.mirrorPercentage), at: 0) }
        action.requestMirrorPolicies = mirrors.compactMap { destination, percent in
            RouteActions.mirror(cluster: cluster(for: destination), percent: percent)
        }
        return action
    }

    private func cluster(for destination: Destination) -> String {
        context.clusterName(for: destination, from: virtualService.namespace, listenerPort: port)
    }
}
