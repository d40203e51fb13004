import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// The route configuration named after an outbound HTTP port: one virtual host per service on
/// that port, plus the catch-all that the outbound traffic policy asks for.
enum OutboundRoutes {
    typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration
    typealias Route = Envoy_Config_Route_V3_Route

    static func routeConfiguration(
        port: UInt32, services: [MeshService], context: TranslationContext
    ) -> RouteConfiguration {
        var config = RouteConfiguration()
        config.name = String(port)
        config.validateClusters = Google_Protobuf_BoolValue(false)
        config.ignorePortInHostMatching = true
        var hosts: [Envoy_Config_Route_V3_VirtualHost] = services.map { service in
            var host = Envoy_Config_Route_V3_VirtualHost()
            host.name = "\(service.hostname):\(port)"
            host.domains = domains(for: service.hostname, port: port)
            host.routes =
                context.virtualServiceRoutes(for: service, port: port)
                ?? [
                    defaultRoute(
                        to: ClusterName.outbound(service.hostname, port: port),
                        hashPolicies: context.hashPolicies(for: service, subset: nil, port: port))
                ]
            return host
        }
        hosts.append(catchAll(context.outboundTrafficPolicy))
        config.virtualHosts = hosts.map(honouringGRPCTimeouts)
        return config
    }

    /// Istio's sidecar routes honour a gRPC request's own `grpc-timeout`, capped at the route
    /// timeout (`max_grpc_timeout`, 0 = no cap). Without it Envoy ignores the header, and with no
    /// route timeout (none unless a VirtualService sets one) the proxy never ends a gRPC call.
    /// Proxyless gRPC clients get `max_stream_duration` instead.
    static func honouringGRPCTimeouts(_ host: Envoy_Config_Route_V3_VirtualHost) -> Envoy_Config_Route_V3_VirtualHost {
        var host = host
        for index in host.routes.indices {
            guard case .route(var action)? = host.routes[index].action else { continue }
            action.maxGrpcTimeout = action.timeout
            host.routes[index].route = action
        }
        return host
    }

    /// The host and its short forms, each with and without the port.
    static func domains(for hostname: String, port: UInt32) -> [String] {
        var names = [hostname]
        if let short = HostNames.shortForms(hostname) { names += short.qualified + [short.name] }
        return names.flatMap { [$0, "\($0):\(port)"] }
    }

    /// The route Istio gives a service no VirtualService covers; it carries the consistent-hash
    /// keys of the service's DestinationRule, which would otherwise have nothing to hash.
    static func defaultRoute(
        to cluster: String, hashPolicies: [Envoy_Config_Route_V3_RouteAction.HashPolicy] = []
    ) -> Route {
        var route = Route()
        route.name = "default"
        var match = Envoy_Config_Route_V3_RouteMatch()
        match.prefix = "/"
        route.match = match
        var action = routeAction(cluster: cluster)
        action.hashPolicy = hashPolicies
        if let retry = RouteActions.retryPolicy(nil, consistentHashing: !hashPolicies.isEmpty) {
            action.retryPolicy = retry
        }
        route.route = action
        return route
    }

    /// A route action with Istio's timeout: none per request (Envoy's 15 s default is not
    /// Istio's). No `max_stream_duration`: once a route has one, Envoy ignores the route's
    /// `timeout` altogether ("new timeouts"), so a VirtualService timeout would never fire.
    static func routeAction(cluster: String) -> Envoy_Config_Route_V3_RouteAction {
        var action = Envoy_Config_Route_V3_RouteAction()
        action.cluster = cluster
        action.timeout = Google_Protobuf_Duration(milliseconds: 0)
        return action
    }

    /// `allow_any` sends unknown hosts out as they are; `block_all` answers them 502 (REGISTRY_ONLY).
    static func catchAll(_ policy: Sidecar.OutboundTrafficPolicy.Mode) -> Envoy_Config_Route_V3_VirtualHost {
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.domains = ["*"]
        var route = Route()
        var match = Envoy_Config_Route_V3_RouteMatch()
        match.prefix = "/"
        route.match = match
        switch policy {
        case .registryOnly:
            host.name = "block_all"
            route.name = "block_all"
            var response = Envoy_Config_Route_V3_DirectResponseAction()
            response.status = 502
            route.directResponse = response
        case .allowAny:
            host.name = "allow_any"
            route.name = "allow_any"
            route.route = routeAction(cluster: ClusterName.passthrough)
        }
        host.routes = [route]
        return host
    }
}

/// Istio's retry policies (route/retry/retry.go).
enum RetryPolicies {
    /// What a route without `retries` gets: 2 retries on connection-level failures, never on the
    /// same host twice.
    static var istioDefault: Envoy_Config_Route_V3_RetryPolicy {
        var policy = Envoy_Config_Route_V3_RetryPolicy()
        policy.retryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
        policy.numRetries = Google_Protobuf_UInt32Value(2)
        policy.retryHostPredicate = [previousHosts]
        policy.hostSelectionRetryMaxAttempts = 5
        return policy
    }

    /// Istio's retryRemoteLocalities: retries move on from the priorities (localities) already
    /// tried to the next ones; Envoy recomputes the priority load every 2 attempts.
    static var previousPriorities: Envoy_Config_Route_V3_RetryPolicy.RetryPriority {
        var config = Envoy_Extensions_Retry_Priority_PreviousPriorities_V3_PreviousPrioritiesConfig()
        config.updateFrequency = 2
        var priority = Envoy_Config_Route_V3_RetryPolicy.RetryPriority()
        priority.name = "envoy.retry_priorities.previous_priorities"
        priority.typedConfig = packed(config)
        return priority
    }

    static var previousHosts: Envoy_Config_Route_V3_RetryPolicy.RetryHostPredicate {
        var predicate = Envoy_Config_Route_V3_RetryPolicy.RetryHostPredicate()
        predicate.name = "envoy.retry_host_predicates.previous_hosts"
        predicate.typedConfig = packed(Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate())
        return predicate
    }
}
