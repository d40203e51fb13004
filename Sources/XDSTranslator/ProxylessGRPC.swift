import EnvoyAPI
import MeshAPI
import SwiftProtobuf
import XDSCache

/// What a proxyless gRPC client (gRPC's own xDS client dialling `xds:///HOST:PORT`) receives,
/// after Istio's grpcgen: per target an API listener named `HOST:PORT` whose connection manager
/// takes route configuration `outbound|PORT||HOST` over ADS, the service's virtual host there,
/// and EDS clusters `outbound|PORT|SUBSET|HOST` with their endpoints. gRPC asks for all of these
/// by name and rejects (NACKs) what it does not implement, so only that part of Envoy's API
/// goes out: no socket listeners, no catch-all or passthrough, no CORS, no SDS secrets (gRPC
/// takes mTLS certificates from certificate providers in its bootstrap, which Trellis does not
/// write yet, so clusters are plaintext).
enum ProxylessGRPC {
    typealias Listener = Envoy_Config_Listener_V3_Listener
    typealias Cluster = Envoy_Config_Cluster_V3_Cluster
    typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration
    typealias ConnectionManager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

    static func snapshot(_ context: TranslationContext) -> Snapshot {
        var resources = ResourceSet()
        var seen: Set<String> = []
        // One service per host name, the proxy's own namespace first (the first resource of a
        // name wins in ResourceSet).
        let services = EgressScope.scopes(for: context).flatMap(\.services)
            .filter { seen.insert("\($0.namespace)/\($0.hostname)").inserted }
            .sorted { ($0.namespace == context.proxy.namespace ? 0 : 1) < ($1.namespace == context.proxy.namespace ? 0 : 1) }
        for service in services where isReachable(service) {
            addClusters(service, context: context, to: &resources)
            for port in service.ports where [.http, .http2, .grpc].contains(port.protocol) {
                addTarget(service, port: port.number, context: context, to: &resources)
            }
        }
        return Snapshot(resources.resources)
    }

    /// gRPC balances over endpoints it is given (EDS) or over one DNS name it resolves itself
    /// (LOGICAL_DNS); it has no original-destination clusters and no per-endpoint DNS, and a
    /// wildcard host is no target one can dial.
    static func isReachable(_ service: MeshService) -> Bool {
        guard !service.hostname.hasPrefix("*") else { return false }
        switch service.resolution {
        case .static: return true
        case .dns, .dnsRoundRobin: return service.endpoints.isEmpty
        case .none: return false
        }
    }

    /// The listeners of every name a client may dial for the port, and their route configuration.
    static func addTarget(_ service: MeshService, port: UInt32, context: TranslationContext, to resources: inout ResourceSet) {
        let routes = routeConfiguration(service, port: port, context: context)
        resources.add(.route, routes.name, routes, references: ProxyTranslator.clusters(in: routes))
        for name in targetNames(service.hostname, port: port, proxyNamespace: context.proxy.namespace) {
            resources.add(.listener, name, apiListener(name: name, routeConfiguration: routes.name))
        }
    }

    /// `HOST:PORT`, and for Kubernetes-style hosts the short forms DNS resolves in a pod:
    /// `NAME.NAMESPACE.svc:PORT`, `NAME.NAMESPACE:PORT`, and `NAME:PORT` in the proxy's own
    /// namespace (Istio expands the short names a client dials the same way).
    static func targetNames(_ hostname: String, port: UInt32, proxyNamespace: String) -> [String] {
        var names = [hostname]
        if let short = HostNames.shortForms(hostname) {
            names += short.qualified + (short.namespace == proxyNamespace ? [short.name] : [])
        }
        return names.map { "\($0):\(port)" }
    }

    static func apiListener(name: String, routeConfiguration: String) -> Listener {
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = .aggregated
        rds.routeConfigName = routeConfiguration
        var manager = ConnectionManager()
        manager.rds = rds
        // gRPC implements the fault filter (VirtualService `fault`); the router must come last.
        manager.httpFilters = [
            HTTPFilters.named(HTTPFilterConfigs.faultFilter, Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()),
            HTTPFilters.router,
        ]
        var api = Envoy_Config_Listener_V3_ApiListener()
        api.apiListener = packed(manager)
        var listener = Listener()
        listener.name = name
        listener.apiListener = api
        return listener
    }

    /// The service's virtual host alone (gRPC picks it by the dialled authority), with the
    /// sidecar's VirtualService routes.
    static func routeConfiguration(_ service: MeshService, port: UInt32, context: TranslationContext) -> RouteConfiguration {
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = "\(service.hostname):\(port)"
        host.domains = OutboundRoutes.domains(for: service.hostname, port: port)
        let routes =
            context.virtualServiceRoutes(for: service, port: port)
            ?? [OutboundRoutes.defaultRoute(to: ClusterName.outbound(service.hostname, port: port))]
        host.routes = routes.map(supported)
        var config = RouteConfiguration()
        config.name = ClusterName.outbound(service.hostname, port: port)
        config.virtualHosts = [host]
        return config
    }

    /// A sidecar route as gRPC reads it: per-route configuration only for filters gRPC has
    /// (it rejects CORS; fault it implements), and the request timeout as the stream's
    /// `max_stream_duration`, the only timeout gRPC honours (0 = none), as Istio does for
    /// proxyless gRPC.
    static func supported(_ route: Envoy_Config_Route_V3_Route) -> Envoy_Config_Route_V3_Route {
        var route = route
        route.typedPerFilterConfig = route.typedPerFilterConfig.filter { $0.key == HTTPFilterConfigs.faultFilter }
        if case .route(var action)? = route.action {
            var duration = Envoy_Config_Route_V3_RouteAction.MaxStreamDuration()
            duration.maxStreamDuration = action.timeout
            action.maxStreamDuration = duration
            route.route = action
        }
        return route
    }

    /// One cluster per port and DestinationRule subset, balanced the ways gRPC implements:
    /// ROUND_ROBIN, or RING_HASH for `consistentHash` (Istio's grpcgen does the same).
    static func addClusters(_ service: MeshService, context: TranslationContext, to resources: inout ResourceSet) {
        let rule = context.destinationRule(for: service.hostname, serviceNamespace: service.namespace)?.spec
        let subsets: [Subset?] = [nil] + (rule?.subsets ?? []).map { Optional($0) }
        for port in service.ports {
            for subset in subsets {
                let name = ClusterName.outbound(service.hostname, port: port.number, subset: subset?.name ?? "")
                var cluster = Cluster()
                cluster.name = name
                cluster.lbPolicy = .roundRobin
                let policy = context.trafficPolicy(rule, subset: subset?.name, port: port.number)
                if let balancer = policy.loadBalancer, balancer.consistentHash != nil {
                    ClusterTrafficPolicy.applyLoadBalancer(balancer, to: &cluster)
                }
                // gRPC's only circuit breaker; its default (1024) would cut what no rule limits.
                var thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
                let limit = policy.connectionPool?.http?.http2MaxRequests ?? 0
                thresholds.maxRequests = Google_Protobuf_UInt32Value(limit > 0 ? UInt32(limit) : UInt32.max)
                cluster.circuitBreakers.thresholds = [thresholds]
                if service.resolution == .static {
                    var eds = Cluster.EdsClusterConfig()
                    eds.edsConfig = .aggregated
                    eds.serviceName = name
                    cluster.type = .eds
                    cluster.edsClusterConfig = eds
                    let assignment = ClusterLoadAssignments.assignment(
                        name: name, service: service, port: port, subsetLabels: subset?.labels ?? [:])
                    resources.add(.endpoint, name, withLocalities(assignment))
                } else {
                    cluster.type = .logicalDns
                    cluster.loadAssignment = ClusterLoadAssignments.dnsAssignment(
                        name: name, host: service.hostname, port: port.targetPort ?? port.number)
                }
                resources.add(.cluster, name, cluster)
            }
        }
    }

    /// gRPC rejects endpoint groups without a locality, which Envoy accepts; an empty locality
    /// means "none" to both.
    static func withLocalities(_ assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment)
        -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment
    {
        var assignment = assignment
        for index in assignment.endpoints.indices where !assignment.endpoints[index].hasLocality {
            assignment.endpoints[index].locality = Envoy_Config_Core_V3_Locality()
        }
        return assignment
    }
}
