public import CertificateAuthority
public import ConfigStore
public import Foundation

/// Bearer tokens for the secure xDS port, kept in the store as SHA-256 hashes under
/// `/tokens/HASH`: the token itself is returned once at creation and never stored. Verifying
/// reads the store (so a token minted by another process on the same data dir, or by another
/// replica, works at once) and compares the stored hash in constant time.
public struct WorkloadTokens: Sendable {
    public static let keyPrefix = "/tokens/"

    private let store: any ConfigStore

    public init(store: any ConfigStore) {
        self.store = store
    }

    /// Mints a token bound to `namespace`/`serviceAccount`.
    public func create(namespace: String, serviceAccount: String, ttl: TimeInterval?, now: Date = Date()) async throws
        -> String
    {
        let (token, write) = try Self.mint(namespace: namespace, serviceAccount: serviceAccount, ttl: ttl, now: now)
        try await store.commit([write])
        return token
    }

    /// A new token and the store write that makes it valid, for a caller's transaction.
    /// `workload`: the WorkloadEntry it is for (revoked with it).
    public static func mint(
        namespace: String, serviceAccount: String, ttl: TimeInterval?, workload: String? = nil, now: Date = Date()
    ) throws -> (token: String, write: StoreWrite) {
        let token = "trellis-" + TokenStore.randomToken()
        let record = TokenRecord(
            sha256: hex(TokenStore.digest(token)), namespace: namespace, serviceAccount: serviceAccount,
            createdAt: now, expiresAt: ttl.map { now.addingTimeInterval($0) }, workload: workload)
        return (token, try write(record))
    }

    /// The store writes that revoke every token minted for WorkloadEntry `namespace/workload`.
    public func revocations(namespace: String, workload: String) async throws -> [StoreWrite] {
        let (entries, _) = try await store.list(prefix: Self.keyPrefix)
        return try entries.compactMap { entry in
            let record = try JSONDecoder.stored.decode(TokenRecord.self, from: Data(entry.value))
            guard record.namespace == namespace, record.workload == workload else { return nil }
            return .delete(key: entry.key, expect: .modRevision(entry.modRevision))
        }
    }

    /// The token hash a store key of a token names (nil for another key).
    public static func tokenHash(ofKey key: String) -> String? {
        key.hasPrefix(keyPrefix) ? String(key.dropFirst(keyPrefix.count)) : nil
    }

    /// The grant of a valid, unexpired token, or nil. Throws when the store cannot be read, so
    /// that the caller refuses the stream for that reason rather than as a bad token.
    public func verify(_ token: String, now: Date = Date()) async throws -> TokenGrant? {
        let presented = TokenStore.digest(token)
        guard let entry = try await store.get(Self.keyPrefix + Self.hex(presented)) else { return nil }
        let record = try JSONDecoder.stored.decode(TokenRecord.self, from: Data(entry.value))
        // The key matched; the record's own hash is compared too, in constant time.
        guard TokenStore.constantTimeEqual(presented, TokenStore.bytes(hex: record.sha256)) else { return nil }
        guard record.expiresAt.map({ $0 > now }) ?? true else { return nil }
        return TokenGrant(
            namespace: record.namespace, serviceAccount: record.serviceAccount, expiresAt: record.expiresAt,
            workload: record.workload, sha256: record.sha256)
    }

    /// Moves the hashes of a data dir's `tokens.json` (Trellis before the store) into the
    /// store, once: tokens minted then keep working. The file is renamed `tokens.json.imported`.
    public func importLegacy(dataDirectory: String) async throws {
        let path = (dataDirectory as NSString).appendingPathComponent("tokens.json")
        guard FileManager.default.fileExists(atPath: path) else { return }
        for record in try TokenStore(dataDirectory: dataDirectory).records() {
            guard try await store.get(Self.keyPrefix + record.sha256) == nil else { continue }
            try await store.commit([Self.write(record)])
        }
        try FileManager.default.moveItem(atPath: path, toPath: path + ".imported")
    }

    private static func write(_ record: TokenRecord) throws -> StoreWrite {
        .put(key: keyPrefix + record.sha256, value: Array(try JSONEncoder.stored.encode(record)), expect: .absent)
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
