import EnvoyAPI
public import MeshAPI
import SwiftProtobuf
public import XDSCache
public import XDSTranslator

/// What `trellis serve` would send one proxy, worked out offline (`trellis translate`): the node
/// that `trellis bootstrap` with the same id and metadata makes Envoy send, read by the same
/// `Proxy(node:)` as a stream's first request, and translated the way `MeshController` does for
/// a proxy without a proven identity. Secrets come from the running server's CA, so there are
/// none here, and no mesh mTLS that depends on them.
public struct ProxyPreview: Sendable {
    public let proxy: Proxy

    public init(nodeID: String, metadata: [String: NodeMetadataValue]) throws(ProxyNodeError) {
        proxy = try Proxy(node: Self.node(id: nodeID, metadata: metadata))
    }

    /// The node Envoy sends with the bootstrap `trellis bootstrap --node-id ID --metadata ...`
    /// writes (its user agent is always "envoy"; GENERATOR=grpc marks a gRPC client).
    static func node(id: String, metadata: [String: NodeMetadataValue]) -> Envoy_Config_Core_V3_Node {
        var node = Envoy_Config_Core_V3_Node()
        node.id = id
        node.userAgentName = "envoy"
        node.metadata = Google_Protobuf_Struct(fields: metadata.mapValues(\.protobufValue))
        return node
    }

    /// The configuration as `serve --root-namespace` would index it for translation.
    public static func index(_ config: MeshConfig, rootNamespace: String = MeshConfig.defaultRootNamespace) -> MeshIndex {
        var config = config
        config.rootNamespace = rootNamespace
        return MeshIndex(config)
    }

    /// The snapshot for this proxy.
    public func snapshot(_ index: MeshIndex) -> Snapshot {
        ProxyTranslator.snapshot(index, for: proxy, credentials: nil)
    }
}

extension NodeMetadataValue {
    var protobufValue: Google_Protobuf_Value {
        switch self {
        case .string(let text): Google_Protobuf_Value(stringValue: text)
        case .map(let map): Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: map.mapValues(Google_Protobuf_Value.init(stringValue:))))
        }
    }
}
