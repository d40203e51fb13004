import Foundation
import MeshAPI
import Yams

/// The Envoy bootstrap `trellis bootstrap` writes: the node's identity in Istio's terms, an
/// admin listener, and one static cluster to the control plane, which everything else comes from
/// over ADS (HTTP/2 gRPC, state of the world, or incremental with `delta`). With several
/// control-plane addresses (replicas), the cluster holds them all and Envoy moves to another
/// when its stream's replica goes away.
public struct EnvoyBootstrap: Sendable {
    public var nodeID: String
    /// One or more replicas of the control plane.
    public var xdsAddresses: [HostPort]
    public var adminAddress: HostPort
    /// Node metadata. LABELS is a map; every other key is a string.
    public var metadata: [String: NodeMetadataValue]
    /// Connect to the secure xDS port: verify it with the mesh root, authenticate with a token.
    public var secure: Secure?
    /// Incremental (delta) ADS: `api_type: DELTA_GRPC`.
    public var delta = false
    /// How often Envoy streams its stats to the control plane (the service graph's resolution).
    public var statsFlushInterval: Duration = .seconds(5)

    public struct Secure: Sendable {
        /// A file (as Envoy resolves it) or, to keep the bootstrap self-contained, the PEM itself.
        public enum RootCertificate: Sendable {
            case path(String)
            case pem(String)
        }

        public var rootCertificate: RootCertificate
        public var token: String

        public init(rootCertificatePath: String, token: String) {
            self.init(rootCertificate: .path(rootCertificatePath), token: token)
        }

        public init(rootCertificate: RootCertificate, token: String) {
            self.rootCertificate = rootCertificate
            self.token = token
        }
    }

    public init(
        nodeID: String, xdsAddresses: [HostPort], adminAddress: HostPort, metadata: [String: NodeMetadataValue],
        secure: Secure? = nil
    ) {
        self.nodeID = nodeID
        self.xdsAddresses = xdsAddresses
        self.adminAddress = adminAddress
        self.metadata = metadata
        self.secure = secure
    }

    /// Istio's cluster name for the node: `NAME.NAMESPACE` from the id's third field.
    var nodeCluster: String {
        let parts = nodeID.split(separator: "~", omittingEmptySubsequences: false)
        return parts.count == 4 ? String(parts[2]) : nodeID
    }

    public func yaml() throws -> String {
        let socket: (HostPort) -> [String: Any] = { ["socket_address": ["address": $0.host, "port_value": $0.port]] }
        var grpcService: [String: Any] = ["envoy_grpc": ["cluster_name": "xds-grpc"]]
        var xdsCluster: [String: Any] = [
            "name": "xds-grpc",
            // A name (a host that reaches the server by another name) is resolved by Envoy.
            "type": xdsAddresses.allSatisfy { IPAddress.isValid($0.host) } ? "STATIC" : "STRICT_DNS",
            "connect_timeout": "1s",
            "typed_extension_protocol_options": [
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": [
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": ["http2_protocol_options": [:] as [String: Any]],
                ]
            ],
            "load_assignment": [
                "cluster_name": "xds-grpc",
                "endpoints": [["lb_endpoints": xdsAddresses.map { ["endpoint": ["address": socket($0)]] }]],
            ],
        ]
        if xdsAddresses.count > 1 {
            // A replica that stops answering is skipped on reconnect instead of being retried in
            // turn: Envoy's own gRPC client has no other failover.
            xdsCluster["outlier_detection"] = [
                "consecutive_local_origin_failure": 1, "split_external_local_origin_errors": true,
                "base_ejection_time": "10s", "max_ejection_percent": 100,
            ] as [String: Any]
        }
        if let secure {
            grpcService["initial_metadata"] = [["key": "authorization", "value": "Bearer \(secure.token)"]]
            xdsCluster["transport_socket"] = [
                "name": "envoy.transport_sockets.tls",
                "typed_config": [
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                    "common_tls_context": [
                        "alpn_protocols": ["h2"],
                        // The server's certificate, not any the mesh root signed: workload
                        // certificates carry only SPIFFE URIs, never this name.
                        "validation_context": [
                            "trusted_ca": secure.trustedCA,
                            "match_typed_subject_alt_names": [
                                ["san_type": "DNS", "matcher": ["exact": ServingCertificate.subjectName]]
                            ],
                        ] as [String: Any],
                    ],
                ],
            ]
        }
        let document: [String: Any] = [
            "node": [
                "id": nodeID,
                "cluster": nodeCluster,
                "metadata": metadata.mapValues(\.yamlValue),
            ],
            "admin": ["address": socket(adminAddress)],
            "dynamic_resources": [
                "ads_config": [
                    "api_type": delta ? "DELTA_GRPC" : "GRPC",
                    "transport_api_version": "V3",
                    "grpc_services": [grpcService],
                ],
                "cds_config": ["ads": [:] as [String: Any], "resource_api_version": "V3"],
                "lds_config": ["ads": [:] as [String: Any], "resource_api_version": "V3"],
            ],
            "static_resources": ["clusters": [xdsCluster]],
            // Per-edge golden metrics: the outbound cluster stats go to the control plane on the
            // xDS connection settings (same cluster, same token). Counters as deltas and
            // histograms per interval, so a reconnect neither loses nor double-counts.
            "stats_sinks": [
                [
                    "name": "envoy.stat_sinks.metrics_service",
                    "typed_config": [
                        "@type": "type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig",
                        "transport_api_version": "V3",
                        "grpc_service": grpcService,
                        "report_counters_as_deltas": true,
                        "emit_tags_as_labels": false,
                        "histogram_emit_mode": "HISTOGRAM",
                        // Bounded messages whatever the number of clusters.
                        "batch_size": 1000,
                    ] as [String: Any],
                ]
            ],
            "stats_flush_interval": Self.durationText(statsFlushInterval),
        ]
        let servers = xdsAddresses.map(\.description).joined(separator: ", ")
        let header = "# Envoy bootstrap written by Trellis: everything else arrives over ADS from \(servers).\n"
        return header + (try Yams.dump(object: document, sortKeys: true))
    }
}

extension EnvoyBootstrap {
    /// A protobuf JSON Duration, e.g. `5s` or `0.250s`.
    static func durationText(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : String(format: "%.3fs", Double(milliseconds) / 1000)
    }
}

extension EnvoyBootstrap.Secure {
    /// The `DataSource` of the root certificate.
    var trustedCA: [String: String] {
        switch rootCertificate {
        case .path(let path): ["filename": path]
        case .pem(let pem): ["inline_string": pem]
        }
    }
}

/// A node metadata value: Istio's LABELS is a map, the rest are strings.
public enum NodeMetadataValue: Sendable, Equatable {
    case string(String)
    case map([String: String])

    /// Parses `--metadata KEY=VALUE`. LABELS (and any value written as a JSON object) becomes a
    /// map; LABELS also takes `k=v,k2=v2`.
    public static func parse(key: String, value: String) -> NodeMetadataValue? {
        if value.hasPrefix("{") {
            guard let data = value.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: String]
            else { return nil }
            return .map(object)
        }
        guard key == "LABELS" else { return .string(value) }
        var labels: [String: String] = [:]
        for pair in value.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            labels[String(parts[0])] = String(parts[1])
        }
        return .map(labels)
    }

    var yamlValue: Any {
        switch self {
        case .string(let text): text
        case .map(let map): map
        }
    }
}
