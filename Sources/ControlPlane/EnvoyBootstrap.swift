import Foundation
import Yams

/// The Envoy bootstrap `trellis bootstrap` writes: the node's identity in Istio's terms, an
/// admin listener, and one static cluster to the control plane, which everything else comes from
/// over ADS (HTTP/2 gRPC, state of the world).
public struct EnvoyBootstrap: Sendable {
    public var nodeID: String
    public var xdsAddress: HostPort
    public var adminAddress: HostPort
    /// Node metadata. LABELS is a map; every other key is a string.
    public var metadata: [String: NodeMetadataValue]

    public init(nodeID: String, xdsAddress: HostPort, adminAddress: HostPort, metadata: [String: NodeMetadataValue]) {
        self.nodeID = nodeID
        self.xdsAddress = xdsAddress
        self.adminAddress = adminAddress
        self.metadata = metadata
    }

    /// Istio's cluster name for the node: `NAME.NAMESPACE` from the id's third field.
    var nodeCluster: String {
        let parts = nodeID.split(separator: "~", omittingEmptySubsequences: false)
        return parts.count == 4 ? String(parts[2]) : nodeID
    }

    public func yaml() throws -> String {
        let socket: (HostPort) -> [String: Any] = { ["socket_address": ["address": $0.host, "port_value": $0.port]] }
        let document: [String: Any] = [
            "node": [
                "id": nodeID,
                "cluster": nodeCluster,
                "metadata": metadata.mapValues(\.yamlValue),
            ],
            "admin": ["address": socket(adminAddress)],
            "dynamic_resources": [
                "ads_config": [
                    "api_type": "GRPC",
                    "transport_api_version": "V3",
                    "grpc_services": [["envoy_grpc": ["cluster_name": "xds-grpc"]]],
                ],
                "cds_config": ["ads": [:] as [String: Any], "resource_api_version": "V3"],
                "lds_config": ["ads": [:] as [String: Any], "resource_api_version": "V3"],
            ],
            "static_resources": [
                "clusters": [
                    [
                        "name": "xds-grpc",
                        "type": "STATIC",
                        "connect_timeout": "1s",
                        "typed_extension_protocol_options": [
                            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": [
                                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                                "explicit_http_config": ["http2_protocol_options": [:] as [String: Any]],
                            ]
                        ],
                        "load_assignment": [
                            "cluster_name": "xds-grpc",
                            "endpoints": [["lb_endpoints": [["endpoint": ["address": socket(xdsAddress)]]]]],
                        ],
                    ] as [String: Any]
                ]
            ],
        ]
        let header = "# Envoy bootstrap written by `trellis bootstrap`: everything else arrives over ADS from \(xdsAddress).\n"
        return header + (try Yams.dump(object: document, sortKeys: true))
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
