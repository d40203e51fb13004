public import ConfigStore
import Foundation
public import MeshAPI

/// A resource applied through the API, as the store keeps it: under
/// `/resources/GROUP/KIND/NAMESPACE/NAME` (GROUP `core` for Secrets), its normalized YAML
/// document and when it was created; its revision is the store's.
public struct StoredResource: Sendable, Equatable {
    public static let keyPrefix = "/resources/"

    public var key: ResourceKey
    /// The document as `ConfigDocuments.split` normalized it.
    public var document: String
    public var createdAt: Date
    /// The store revision of its last change: `metadata.resourceVersion`.
    public var modRevision: StoreRevision

    public init(key: ResourceKey, document: String, createdAt: Date, modRevision: StoreRevision = 0) {
        self.key = key
        self.document = document
        self.createdAt = createdAt
        self.modRevision = modRevision
    }

    /// The store key of a resource.
    public static func storeKey(_ key: ResourceKey) -> String {
        "\(kindPrefix(key.kind))\(key.namespace)/\(key.name)"
    }

    /// The store prefix of every resource of `kind`.
    public static func kindPrefix(_ kind: ResourceKind) -> String {
        "\(keyPrefix)\(kind.group.isEmpty ? "core" : kind.group)/\(kind.rawValue)/"
    }

    /// The path diagnostics name for the resource: its REST path, as `kubectl` users read it.
    public static func sourcePath(_ key: ResourceKey) -> String {
        let root = key.kind.group.isEmpty ? "api/\(key.kind.servedVersion)" : "apis/\(key.kind.apiVersion)"
        return "\(root)/namespaces/\(key.namespace)/\(key.kind.plural)/\(key.name)"
    }

    /// The resource stored in `entry`. Throws for an entry that is not one (a store written by
    /// something else): never read as "absent".
    public init(_ entry: StoredEntry) throws(StoredResourceError) {
        let parts = entry.key.dropFirst(Self.keyPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard entry.key.hasPrefix(Self.keyPrefix), parts.count == 4, let kind = ResourceKind(rawValue: String(parts[1])),
            (kind.group.isEmpty ? "core" : kind.group) == parts[0]
        else { throw StoredResourceError(key: entry.key, reason: "not a resource key") }
        let envelope: Envelope
        do {
            envelope = try JSONDecoder.stored.decode(Envelope.self, from: Data(entry.value))
        } catch {
            throw StoredResourceError(key: entry.key, reason: "unreadable value: \(error)")
        }
        self.init(
            key: ResourceKey(kind: kind, namespace: String(parts[2]), name: String(parts[3])), document: envelope.document,
            createdAt: envelope.createdAt, modRevision: entry.modRevision)
    }

    /// The value the store keeps.
    public func value() throws -> [UInt8] {
        Array(try JSONEncoder.stored.encode(Envelope(document: document, createdAt: createdAt)))
    }

    /// What the config loader reads: the document under its REST path.
    public var configFile: ConfigFile {
        ConfigFile(path: Self.sourcePath(key), contents: document, origin: .api)
    }

    private struct Envelope: Codable {
        var document: String
        var createdAt: Date
    }
}

/// A store entry under the resource prefix that does not hold a resource.
public struct StoredResourceError: Error, CustomStringConvertible {
    public var key: String
    public var reason: String
    public var description: String { "store entry \(key): \(reason)" }
}

extension JSONEncoder {
    static var stored: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var stored: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
