import Foundation

/// The xDS bootstrap of a proxyless gRPC client (gRFC A27: the JSON file `GRPC_XDS_BOOTSTRAP`
/// names), so that `xds:///HOST:PORT` channels get listeners, routes, clusters and endpoints
/// from Trellis over ADS. The node carries the same Istio id and metadata as an Envoy's, plus
/// `GENERATOR=grpc`, Istio's mark for a proxyless client, which picks Trellis' gRPC profile.
public struct GRPCBootstrap: Sendable {
    public var nodeID: String
    /// One or more replicas: gRPC tries them in order (gRFC A71 fallback).
    public var xdsAddresses: [HostPort]
    public var metadata: [String: NodeMetadataValue]

    public init(nodeID: String, xdsAddresses: [HostPort], metadata: [String: NodeMetadataValue]) {
        self.nodeID = nodeID
        self.xdsAddresses = xdsAddresses
        self.metadata = metadata
    }

    public func json() throws -> String {
        var nodeMetadata: [String: Any] = metadata.mapValues(\.yamlValue)
        nodeMetadata["GENERATOR"] = "grpc"
        let idParts = nodeID.split(separator: "~", omittingEmptySubsequences: false)
        let document: [String: Any] = [
            "xds_servers": xdsAddresses.map { address -> [String: Any] in
                [
                    "server_uri": address.description,
                    // The plaintext xDS port: gRPC's bootstrap has no bearer-token credentials
                    // that every gRPC language reads yet.
                    "channel_creds": [["type": "insecure"]],
                    "server_features": ["xds_v3"],
                ]
            },
            "node": [
                "id": nodeID,
                // Istio's cluster name for the node: `NAME.NAMESPACE` from the id's third field.
                "cluster": idParts.count == 4 ? String(idParts[2]) : nodeID,
                "metadata": nodeMetadata,
            ],
        ]
        let data = try JSONSerialization.data(
            withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
