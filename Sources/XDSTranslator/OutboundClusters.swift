import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Clusters for the services a proxy can reach, with Istio's defaults (cluster_builder.go):
/// 10 s connect timeout, LEAST_REQUEST, circuit breakers wide open unless a DestinationRule
/// narrows them, EDS that never waits for endpoints.
enum OutboundClusters {
    typealias Cluster = Envoy_Config_Cluster_V3_Cluster

    /// Adds the clusters (and endpoints) of every port of a service: the service itself and
    /// one per DestinationRule subset, each with the rule's traffic policy.
    static func add(_ service: MeshService, context: TranslationContext, to resources: inout ResourceSet) {
        let rule = context.destinationRule(for: service.hostname, serviceNamespace: service.namespace)?.spec
        for (name, port, subset) in clusters(of: service, rule: rule) {
            var cluster = self.cluster(name: name, service: service, port: port, subsetLabels: subset?.labels ?? [:])
            let policy = context.trafficPolicy(rule, subset: subset?.name, port: port.number)
            ClusterTrafficPolicy.apply(
                policy, to: &cluster, http2: port.protocol.isHTTP2,
                serviceSubjectAltNames: subjectAltNames(of: service, trustDomain: context.trustDomain))
            if let trustDomain = context.trustDomain {
                applyMeshTLS(policy.tls, service: service, port: port, subset: subset?.name ?? "",
                             trustDomain: trustDomain, to: &cluster)
            }
            resources.add(.cluster, name, cluster)
            if cluster.type == .eds {
                let assignment = ClusterLoadAssignments.assignment(
                    name: name, service: service, port: port, subsetLabels: subset?.labels ?? [:])
                resources.add(.endpoint, name, assignment)
            }
        }
    }

    /// The outbound clusters of a service: each port, whole and per subset of its DestinationRule.
    static func clusters(of service: MeshService, rule: DestinationRule?) -> [(name: String, port: ServicePort, subset: Subset?)] {
        let subsets: [Subset?] = [nil] + (rule?.subsets ?? []).map { Optional($0) }
        return service.ports.flatMap { port in
            subsets.map { subset in
                (ClusterName.outbound(service.hostname, port: port.number, subset: subset?.name ?? ""), port, subset)
            }
        }
    }

    /// The identities a service's servers may present, when a rule names none: its workloads'
    /// SPIFFE ids (known only with a trust domain, so with mTLS) and the entry's `subjectAltNames`.
    static func subjectAltNames(of service: MeshService, trustDomain: String?) -> [String] {
        let accounts = trustDomain.map { trustDomain in
            Set(service.endpoints.compactMap(\.serviceAccount)).map {
                ProxyCredentials.spiffeID(trustDomain: trustDomain, namespace: service.namespace, serviceAccount: $0)
            }
        }
        return (accounts ?? []).sorted() + service.subjectAltNames
    }

    /// ISTIO_MUTUAL from a DestinationRule, or auto mTLS (not for MESH_EXTERNAL services, as in
    /// Istio): TLS to exactly the endpoints labelled `security.istio.io/tlsMode: istio` (those
    /// run a sidecar), plaintext to the rest. A rule's
    /// own `sni` and `subjectAltNames` replace the generated ones, as in Istio (useful when the
    /// traffic goes through a gateway that routes by SNI).
    static func applyMeshTLS(
        _ tls: ClientTLSSettings?, service: MeshService, port: ServicePort, subset: String,
        trustDomain: String, to cluster: inout Cluster
    ) {
        let mode = tls?.mode
        guard mode == .istioMutual || (mode == nil && service.location == .meshInternal) else { return }
        let names = tls.map(\.subjectAltNames).flatMap { $0.isEmpty ? nil : $0 }
            ?? subjectAltNames(of: service, trustDomain: trustDomain).sorted()
        let socket = MutualTLS.upstream(
            sni: tls?.sni ?? "outbound_.\(port.number)_.\(subset)_.\(service.hostname)", subjectAltNames: names)
        if mode == .istioMutual {
            cluster.transportSocket = socket
            return
        }
        var match = Cluster.TransportSocketMatch()
        match.name = "tlsMode-istio"
        match.match.fields["tlsMode"] = Google_Protobuf_Value(stringValue: "istio")
        match.transportSocket = socket
        cluster.transportSocketMatches = [match]
    }

    static func cluster(name: String, service: MeshService, port: ServicePort, subsetLabels: [String: String]) -> Cluster {
        var cluster = base(name: name, protocol: port.protocol)
        switch service.resolution {
        case .static:
            cluster.type = .eds
            var eds = Cluster.EdsClusterConfig()
            var source = Envoy_Config_Core_V3_ConfigSource.aggregated
            source.initialFetchTimeout = Google_Protobuf_Duration(milliseconds: 0)
            eds.edsConfig = source
            eds.serviceName = name
            cluster.edsClusterConfig = eds
        case .dns, .dnsRoundRobin:
            cluster.type = service.resolution == .dns ? .strictDns : .logicalDns
            cluster.dnsLookupFamily = .v4Only
            cluster.loadAssignment =
                service.endpoints.isEmpty
                ? ClusterLoadAssignments.dnsAssignment(name: name, host: service.hostname, port: port.targetPort ?? port.number)
                : ClusterLoadAssignments.assignment(name: name, service: service, port: port, subsetLabels: subsetLabels)
        case .none:
            cluster.type = .originalDst
            cluster.lbPolicy = .clusterProvided
        }
        return cluster
    }

    static func base(name: String, protocol: PortProtocol) -> Cluster {
        var cluster = Cluster()
        cluster.name = name
        cluster.connectTimeout = Google_Protobuf_Duration(milliseconds: 10_000)
        cluster.lbPolicy = .leastRequest
        cluster.circuitBreakers = openCircuitBreakers()
        if `protocol`.isHTTP2 {
            var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
            var explicit = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.ExplicitHttpConfig()
            explicit.http2ProtocolOptions = Envoy_Config_Core_V3_Http2ProtocolOptions()
            options.explicitHTTPConfig = explicit
            cluster.typedExtensionProtocolOptions[HTTPProtocolOptions.key] =
                packed(options)
        }
        return cluster
    }

    /// Istio sets every threshold to the maximum so Envoy's small defaults (1024) never cut
    /// traffic that no DestinationRule asked to limit.
    static func openCircuitBreakers() -> Envoy_Config_Cluster_V3_CircuitBreakers {
        var thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
        thresholds.maxConnections = Google_Protobuf_UInt32Value(UInt32.max)
        thresholds.maxPendingRequests = Google_Protobuf_UInt32Value(UInt32.max)
        thresholds.maxRequests = Google_Protobuf_UInt32Value(UInt32.max)
        thresholds.maxRetries = Google_Protobuf_UInt32Value(UInt32.max)
        thresholds.trackRemaining = true
        var breakers = Envoy_Config_Cluster_V3_CircuitBreakers()
        breakers.thresholds = [thresholds]
        return breakers
    }

    /// Where traffic to unknown destinations goes under ALLOW_ANY: to the address it was sent to.
    static var passthrough: Cluster { originalDestination(ClusterName.passthrough) }

    /// A cluster that connects to the connection's original destination address.
    static func originalDestination(_ name: String) -> Cluster {
        var cluster = Cluster()
        cluster.name = name
        cluster.type = .originalDst
        cluster.lbPolicy = .clusterProvided
        cluster.connectTimeout = Google_Protobuf_Duration(milliseconds: 10_000)
        cluster.circuitBreakers = openCircuitBreakers()
        return cluster
    }

    /// A cluster with no endpoints: traffic to it fails, on purpose (REGISTRY_ONLY).
    static var blackHole: Cluster {
        var cluster = Cluster()
        cluster.name = ClusterName.blackHole
        cluster.type = .static
        cluster.connectTimeout = Google_Protobuf_Duration(milliseconds: 10_000)
        return cluster
    }
}
