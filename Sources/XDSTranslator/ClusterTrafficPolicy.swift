import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Applies a DestinationRule traffic policy to a cluster (cluster_traffic_policy.go in Istio).
enum ClusterTrafficPolicy {
    typealias Cluster = Envoy_Config_Cluster_V3_Cluster

    static func apply(_ policy: TrafficPolicy.PortTrafficPolicy, to cluster: inout Cluster, http2: Bool) {
        if let balancer = policy.loadBalancer { applyLoadBalancer(balancer, to: &cluster) }
        if let pool = policy.connectionPool { applyConnectionPool(pool, to: &cluster, http2: http2) }
        if let outlier = policy.outlierDetection { applyOutlierDetection(outlier, to: &cluster) }
        if let tls = policy.tls { applyTLS(tls, to: &cluster) }
    }

    static func applyLoadBalancer(_ balancer: LoadBalancerSettings, to cluster: inout Cluster) {
        if let hash = balancer.consistentHash {
            cluster.lbPolicy = .ringHash
            var ring = Cluster.RingHashLbConfig()
            var minimum = Google_Protobuf_UInt64Value()
            minimum.value = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize ?? 1024
            ring.minimumRingSize = minimum
            cluster.ringHashLbConfig = ring
            return
        }
        switch balancer.simple {
        case .roundRobin?: cluster.lbPolicy = .roundRobin
        case .random?: cluster.lbPolicy = .random
        case .passthrough?:
            cluster.type = .originalDst
            cluster.lbPolicy = .clusterProvided
            cluster.clearEdsClusterConfig()
        default: cluster.lbPolicy = .leastRequest
        }
    }

    /// Only positive values narrow Istio's wide-open circuit breakers.
    static func applyConnectionPool(_ pool: ConnectionPoolSettings, to cluster: inout Cluster, http2: Bool) {
        var thresholds = cluster.circuitBreakers.thresholds.first ?? Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
        func limit(_ value: Int32?, _ keyPath: WritableKeyPath<Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds, Google_Protobuf_UInt32Value>) {
            if let value, value > 0 { thresholds[keyPath: keyPath] = Google_Protobuf_UInt32Value(UInt32(value)) }
        }
        limit(pool.tcp?.maxConnections, \.maxConnections)
        limit(pool.http?.http1MaxPendingRequests, \.maxPendingRequests)
        limit(pool.http?.http2MaxRequests, \.maxRequests)
        limit(pool.http?.maxRetries, \.maxRetries)
        cluster.circuitBreakers.thresholds = [thresholds]

        if let timeout = pool.tcp?.connectTimeout { cluster.connectTimeout = Google_Protobuf_Duration(timeout) }
        if let keepalive = pool.tcp?.tcpKeepalive {
            var out = Envoy_Config_Core_V3_TcpKeepalive()
            if let probes = keepalive.probes { out.keepaliveProbes = Google_Protobuf_UInt32Value(probes) }
            if let time = keepalive.time { out.keepaliveTime = Google_Protobuf_UInt32Value(UInt32(time.seconds)) }
            if let interval = keepalive.interval {
                out.keepaliveInterval = Google_Protobuf_UInt32Value(UInt32(interval.seconds))
            }
            cluster.upstreamConnectionOptions.tcpKeepalive = out
        }
        applyHTTPProtocolOptions(pool.http, to: &cluster, http2: http2)
    }

    /// Connection-level HTTP settings (Istio's applyConnectionPool and applyH2Upgrade): requests
    /// per connection, idle timeout, HTTP/2 stream limit, and which protocol the upstream speaks
    /// (h2UpgradePolicy UPGRADE: HTTP/2; useClientProtocol: whatever the downstream spoke).
    /// These options mean nothing to a TCP proxy, so a TCP cluster may carry them harmlessly.
    static func applyHTTPProtocolOptions(
        _ http: ConnectionPoolSettings.HTTPSettings?, to cluster: inout Cluster, http2: Bool
    ) {
        guard let http else { return }
        let perConnection = http.maxRequestsPerConnection ?? 0
        let streams = http.maxConcurrentStreams ?? 0
        let useClientProtocol = http.useClientProtocol == true
        let upgrade = http.h2UpgradePolicy == .upgrade && !http2
        guard perConnection > 0 || http.idleTimeout != nil || streams > 0 || useClientProtocol || upgrade else { return }

        var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        if perConnection > 0 || http.idleTimeout != nil {
            var common = Envoy_Config_Core_V3_HttpProtocolOptions()
            if perConnection > 0 { common.maxRequestsPerConnection = Google_Protobuf_UInt32Value(UInt32(perConnection)) }
            if let idle = http.idleTimeout { common.idleTimeout = Google_Protobuf_Duration(idle) }
            options.commonHTTPProtocolOptions = common
        }
        var http2Options = Envoy_Config_Core_V3_Http2ProtocolOptions()
        if streams > 0 { http2Options.maxConcurrentStreams = Google_Protobuf_UInt32Value(UInt32(streams)) }
        if useClientProtocol {
            var downstream = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.UseDownstreamHttpConfig()
            downstream.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
            downstream.http2ProtocolOptions = http2Options
            options.useDownstreamProtocolConfig = downstream
        } else {
            var explicit = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.ExplicitHttpConfig()
            if http2 || upgrade {
                explicit.http2ProtocolOptions = http2Options
            } else {
                explicit.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
            }
            options.explicitHTTPConfig = explicit
        }
        cluster.typedExtensionProtocolOptions[HTTPProtocolOptions.key] = packed(options)
    }

    static func applyOutlierDetection(_ outlier: OutlierDetection, to cluster: inout Cluster) {
        var out = Envoy_Config_Cluster_V3_OutlierDetection()
        out.enforcingSuccessRate = Google_Protobuf_UInt32Value(0)
        if let errors = outlier.consecutive5xxErrors {
            out.consecutive5Xx = Google_Protobuf_UInt32Value(errors)
            out.enforcingConsecutive5Xx = Google_Protobuf_UInt32Value(errors > 0 ? 100 : 0)
        }
        if let errors = outlier.consecutiveGatewayErrors {
            out.consecutiveGatewayFailure = Google_Protobuf_UInt32Value(errors)
            out.enforcingConsecutiveGatewayFailure = Google_Protobuf_UInt32Value(errors > 0 ? 100 : 0)
        }
        if let interval = outlier.interval { out.interval = Google_Protobuf_Duration(interval) }
        if let base = outlier.baseEjectionTime { out.baseEjectionTime = Google_Protobuf_Duration(base) }
        if let percent = outlier.maxEjectionPercent, percent > 0 {
            out.maxEjectionPercent = Google_Protobuf_UInt32Value(UInt32(percent))
        }
        if outlier.splitExternalLocalOriginErrors == true {
            out.splitExternalLocalOriginErrors = true
            if let failures = outlier.consecutiveLocalOriginFailures {
                out.consecutiveLocalOriginFailure = Google_Protobuf_UInt32Value(failures)
                out.enforcingConsecutiveLocalOriginFailure = Google_Protobuf_UInt32Value(100)
            }
        }
        cluster.outlierDetection = out
        // Istio disables panic routing unless minHealthPercent asks for it (Envoy's default is 50).
        var threshold = Envoy_Type_V3_Percent()
        threshold.value = Double(max(outlier.minHealthPercent ?? 0, 0))
        cluster.commonLbConfig.healthyPanicThreshold = threshold
    }

    /// SIMPLE originates TLS, verified with a CA file on the proxy's host; ISTIO_MUTUAL needs the
    /// mesh CA and is applied by the mTLS translation.
    static func applyTLS(_ tls: ClientTLSSettings, to cluster: inout Cluster) {
        guard tls.mode == .simple else { return }
        var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        if let sni = tls.sni { context.sni = sni }
        var common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        if tls.insecureSkipVerify != true, let ca = tls.caCertificates {
            var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
            var source = Envoy_Config_Core_V3_DataSource()
            source.filename = ca
            validation.trustedCa = source
            validation.matchTypedSubjectAltNames = tls.subjectAltNames.map { san in
                var matcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
                matcher.sanType = .dns
                matcher.matcher.exact = san
                return matcher
            }
            common.combinedValidationContext.defaultValidationContext = validation
        }
        context.commonTlsContext = common
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.tls"
        socket.typedConfig = packed(context)
        cluster.transportSocket = socket
    }
}

enum HTTPProtocolOptions {
    static let key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
}
