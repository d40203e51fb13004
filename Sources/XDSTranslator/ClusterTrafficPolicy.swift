import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Applies a DestinationRule traffic policy to a cluster (cluster_traffic_policy.go in Istio).
/// TLS comes last: whether it offers `h2` by ALPN depends on the protocol the pool settled on.
enum ClusterTrafficPolicy {
    typealias Cluster = Envoy_Config_Cluster_V3_Cluster

    static func apply(
        _ policy: TrafficPolicy.PortTrafficPolicy, to cluster: inout Cluster, http2: Bool,
        serviceSubjectAltNames: [String]
    ) {
        if let balancer = policy.loadBalancer { applyLoadBalancer(balancer, to: &cluster) }
        if let pool = policy.connectionPool { applyConnectionPool(pool, to: &cluster, http2: http2) }
        if let outlier = policy.outlierDetection { applyOutlierDetection(outlier, to: &cluster) }
        if let tls = policy.tls {
            UpstreamTLS.apply(tls, serviceSubjectAltNames: serviceSubjectAltNames, to: &cluster)
        }
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
        case .roundRobin?:
            cluster.lbPolicy = .roundRobin
            if let warmup = balancer.warmup {
                var config = Cluster.RoundRobinLbConfig()
                config.slowStartConfig = slowStart(warmup)
                cluster.roundRobinLbConfig = config
            }
        case .random?: cluster.lbPolicy = .random
        case .passthrough?:
            cluster.type = .originalDst
            cluster.lbPolicy = .clusterProvided
            cluster.clearEdsClusterConfig()
        default:
            cluster.lbPolicy = .leastRequest
            if let warmup = balancer.warmup {
                var config = Cluster.LeastRequestLbConfig()
                config.slowStartConfig = slowStart(warmup)
                cluster.leastRequestLbConfig = config
            }
        }
    }

    /// Istio's setWarmup: Envoy's defaults written out (linear ramp from 10%). Envoy requires a
    /// runtime key for the aggression; none is set in Trellis' bootstraps, so the value given wins.
    static func slowStart(_ warmup: WarmupConfiguration) -> Cluster.SlowStartConfig {
        var config = Cluster.SlowStartConfig()
        config.slowStartWindow = Google_Protobuf_Duration(warmup.duration)
        var aggression = Envoy_Config_Core_V3_RuntimeDouble()
        aggression.defaultValue = warmup.aggression ?? 1
        aggression.runtimeKey = "trellis.slow_start.aggression"
        config.aggression = aggression
        var minimum = Envoy_Type_V3_Percent()
        minimum.value = warmup.minimumPercent ?? 10
        config.minWeightPercent = minimum
        return config
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
    /// per connection, idle timeout, HTTP/2 stream limit and PING keepalive, and which protocol
    /// the upstream speaks (h2UpgradePolicy UPGRADE: HTTP/2; useClientProtocol: whatever the
    /// downstream spoke). These options mean nothing to a TCP proxy, so a TCP cluster may carry
    /// them harmlessly.
    static func applyHTTPProtocolOptions(
        _ http: ConnectionPoolSettings.HTTPSettings?, to cluster: inout Cluster, http2: Bool
    ) {
        guard let http else { return }
        let perConnection = http.maxRequestsPerConnection ?? 0
        let streams = http.maxConcurrentStreams ?? 0
        let useClientProtocol = http.useClientProtocol == true
        let upgrade = http.h2UpgradePolicy == .upgrade && !http2
        // PINGs are HTTP/2 frames: an HTTP/1.1 upstream has nothing to send them on.
        let keepAlive = http.http2KeepAlive.flatMap { http2 || upgrade || useClientProtocol ? $0 : nil }
        guard perConnection > 0 || http.idleTimeout != nil || streams > 0 || useClientProtocol || upgrade
            || keepAlive != nil
        else { return }

        var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        if perConnection > 0 || http.idleTimeout != nil {
            var common = Envoy_Config_Core_V3_HttpProtocolOptions()
            if perConnection > 0 { common.maxRequestsPerConnection = Google_Protobuf_UInt32Value(UInt32(perConnection)) }
            if let idle = http.idleTimeout { common.idleTimeout = Google_Protobuf_Duration(idle) }
            options.commonHTTPProtocolOptions = common
        }
        var http2Options = Envoy_Config_Core_V3_Http2ProtocolOptions()
        if streams > 0 { http2Options.maxConcurrentStreams = Google_Protobuf_UInt32Value(UInt32(streams)) }
        if let keepAlive {
            var settings = Envoy_Config_Core_V3_KeepaliveSettings()
            if let interval = keepAlive.interval { settings.interval = Google_Protobuf_Duration(interval) }
            if let timeout = keepAlive.timeout { settings.timeout = Google_Protobuf_Duration(timeout) }
            http2Options.connectionKeepalive = settings
        }
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
}

enum HTTPProtocolOptions {
    typealias Options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions

    static let key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

    /// The options a cluster carries so far, to amend; nil when it has none.
    static func of(_ cluster: Envoy_Config_Cluster_V3_Cluster) -> Options? {
        guard let any = cluster.typedExtensionProtocolOptions[key] else { return nil }
        return try? Options(serializedBytes: any.value)
    }

    /// Whether the cluster speaks HTTP/2 to its upstream whatever the downstream spoke.
    static func isHTTP2(_ cluster: Envoy_Config_Cluster_V3_Cluster) -> Bool {
        guard case .explicitHTTPConfig(let explicit)? = of(cluster)?.upstreamProtocolOptions,
            case .http2ProtocolOptions? = explicit.protocolConfig
        else { return false }
        return true
    }
}
