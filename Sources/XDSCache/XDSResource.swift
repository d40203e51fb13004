public import SwiftProtobuf
import Crypto
import Foundation

/// One xDS resource, serialized once when the snapshot is built and shared by every stream that
/// sends it. `version` is a content hash, so the same config always has the same version, across
/// rebuilds and restarts (Envoy re-applies and re-ACKs a response whose version moves without
/// a change, forever).
///
/// A reference type: the per-stream bookkeeping of thousands of proxies holds pointers to the
/// one copy, not copies. Equal means the same type, name and content.
public final class XDSResource: Sendable, Equatable {
    public let type: ResourceType
    public let name: String
    public let version: String
    /// The resource packed as `google.protobuf.Any`, ready to put in a `DiscoveryResponse`.
    public let body: Google_Protobuf_Any
    /// Clusters this resource sends traffic to. The cache holds a listener or route back until
    /// the proxy has these clusters, and keeps a cluster the proxy still routes to until the
    /// replacement routes are in place.
    public let referencedClusters: Set<String>
    /// Listeners only: the route configurations (RDS names) it takes its routes from. A route
    /// configuration no listener of the proxy names any more holds no cluster back.
    public let referencedRoutes: Set<String>
    /// A hash of the name and version; summed over a set of resources it versions the set in any
    /// order (see `ResourceTable.digest`).
    let entryHash: UInt64

    public init<M: SwiftProtobuf.Message>(
        _ type: ResourceType, name: String, message: M, referencedClusters: Set<String> = [],
        referencedRoutes: Set<String> = []
    ) throws {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: [UInt8] = try message.serializedBytes(options: options)
        var any = Google_Protobuf_Any()
        any.typeURL = type.typeURL
        any.value = Data(bytes)
        self.type = type
        self.name = name
        self.body = any
        self.version = ContentHash.of(bytes)
        self.referencedClusters = referencedClusters
        self.referencedRoutes = referencedRoutes
        entryHash = ContentHash.entry(name: name, version: version)
    }

    /// What a reconnecting delta client says it has: a name and a version, no body. Never sent.
    init(placeholder type: ResourceType, name: String, version: String) {
        self.type = type
        self.name = name
        self.version = version
        body = Google_Protobuf_Any()
        referencedClusters = []
        referencedRoutes = []
        entryHash = ContentHash.entry(name: name, version: version)
    }

    public static func == (lhs: XDSResource, rhs: XDSResource) -> Bool {
        lhs === rhs || (lhs.type == rhs.type && lhs.name == rhs.name && lhs.version == rhs.version)
    }
}

/// Short, stable hashes used as resource and response versions.
public enum ContentHash {
    public static func of(_ bytes: some Sequence<UInt8>) -> String {
        let digest = SHA256.hash(data: Array(bytes))
        // Hand-rolled hex: String(format:) costs more than hashing the resource itself.
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(16)
        for byte in digest.prefix(8) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// FNV-1a of a resource's name and version: cheap, stable across processes (unlike
    /// `Hasher`), and well spread, so that sums of them version sets of resources.
    static func entry(name: String, version: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ 0) &* 0x100_0000_01b3
        for byte in version.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        // murmur3's finalizer: every input bit moves every output bit, so sums do not cancel.
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        return hash ^ (hash >> 33)
    }

    /// A set's digest (a sum of entry hashes) as a response version.
    static func version(_ digest: UInt64) -> String {
        let hex = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
