import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// DestinationRule lookup and the traffic policy that applies to one cluster.
extension TranslationContext {
    /// Istio's lookup: a rule in the proxy's namespace, then the service's, then the root
    /// namespace; within one namespace an exact host beats a wildcard.
    func destinationRule(for hostname: String, serviceNamespace: String) -> Resource<DestinationRule>? {
        let all = config.destinationRules
        let candidates = index.destinationRules.positions(covering: hostname).map { all[$0] }.filter { rule in
            HostNames.isExported(rule.spec.exportTo, from: rule.namespace, to: proxy.namespace)
                && (rule.spec.workloadSelector.map { $0.matches(proxy.labels) } ?? true)
        }
        for namespace in [proxy.namespace, serviceNamespace, config.rootNamespace] {
            let inNamespace = candidates.filter { $0.namespace == namespace }
            if let exact = inNamespace.first(where: {
                HostNames.fullyQualified($0.spec.host, namespace: $0.namespace) == hostname
            }) {
                return exact
            }
            if let wildcard = inNamespace.first { return wildcard }
        }
        return nil
    }

    /// The policy for one port of one subset: the subset's policy replaces the rule's block by
    /// block, and port-level settings replace the top-level ones for their port.
    func trafficPolicy(_ rule: DestinationRule?, subset: String?, port: UInt32) -> TrafficPolicy.PortTrafficPolicy {
        var result = TrafficPolicy.PortTrafficPolicy()
        func merge(_ policy: TrafficPolicy?) {
            guard let policy else { return }
            var level = TrafficPolicy.PortTrafficPolicy()
            level.loadBalancer = policy.loadBalancer
            level.connectionPool = policy.connectionPool
            level.outlierDetection = policy.outlierDetection
            level.tls = policy.tls
            if let portLevel = policy.portLevelSettings.first(where: { $0.port == port }) {
                level.loadBalancer = portLevel.loadBalancer ?? level.loadBalancer
                level.connectionPool = portLevel.connectionPool ?? level.connectionPool
                level.outlierDetection = portLevel.outlierDetection ?? level.outlierDetection
                level.tls = portLevel.tls ?? level.tls
            }
            result.loadBalancer = level.loadBalancer ?? result.loadBalancer
            result.connectionPool = level.connectionPool ?? result.connectionPool
            result.outlierDetection = level.outlierDetection ?? result.outlierDetection
            result.tls = level.tls ?? result.tls
        }
        merge(rule?.trafficPolicy)
        if let subset, let subsetPolicy = rule?.subsets.first(where: { $0.name == subset })?.trafficPolicy {
            merge(subsetPolicy)
        }
        return result
    }

    /// Consistent-hash keys for routes to a destination whose policy asks for them; a short
    /// host name resolves in `namespace`, the namespace of the rule that names it.
    func hashPolicies(
        for destination: Destination, from namespace: String, listenerPort: UInt32
    ) -> [Envoy_Config_Route_V3_RouteAction.HashPolicy] {
        let host = HostNames.fullyQualified(destination.host, namespace: namespace)
        guard let service = registry.service(host, from: proxy.namespace) else { return [] }
        let port = destination.port ?? (service.ports.count == 1 ? service.ports[0].number : listenerPort)
        return hashPolicies(for: service, subset: destination.subset, port: port)
    }

    /// Consistent-hash keys for routes to one subset (nil: all) of a service port. Without
    /// them a ring-hash cluster hashes nothing and spreads requests at random.
    func hashPolicies(
        for service: MeshService, subset: String?, port: UInt32
    ) -> [Envoy_Config_Route_V3_RouteAction.HashPolicy] {
        guard let rule = destinationRule(for: service.hostname, serviceNamespace: service.namespace),
            let hash = trafficPolicy(rule.spec, subset: subset, port: port).loadBalancer?.consistentHash
        else { return [] }
        var policy = Envoy_Config_Route_V3_RouteAction.HashPolicy()
        if let header = hash.httpHeaderName {
            var value = Envoy_Config_Route_V3_RouteAction.HashPolicy.Header()
            value.headerName = header
            policy.header = value
        } else if let cookie = hash.httpCookie {
            var value = Envoy_Config_Route_V3_RouteAction.HashPolicy.Cookie()
            value.name = cookie.name
            if let path = cookie.path { value.path = path }
            if let ttl = cookie.ttl { value.ttl = Google_Protobuf_Duration(ttl) }
            policy.cookie = value
        } else if hash.useSourceIp == true {
            var value = Envoy_Config_Route_V3_RouteAction.HashPolicy.ConnectionProperties()
            value.sourceIp = true
            policy.connectionProperties = value
        } else if let parameter = hash.httpQueryParameterName {
            var value = Envoy_Config_Route_V3_RouteAction.HashPolicy.QueryParameter()
            value.name = parameter
            policy.queryParameter = value
        } else {
            return []
        }
        return [policy]
    }
}
