import Crypto
public import Foundation

/// What a bootstrap token proves: the proxy presenting it runs as this service account.
public struct TokenGrant: Sendable, Equatable {
    public var namespace: String
    public var serviceAccount: String
    public var expiresAt: Date?

    public init(namespace: String, serviceAccount: String, expiresAt: Date? = nil) {
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.expiresAt = expiresAt
    }
}

/// Bearer tokens for the secure xDS port, kept as SHA-256 hashes in `DATA_DIR/tokens.json`
/// (0600). Minting writes the file; verifying re-reads it when it changed, so a token minted
/// by `trellis token create` works against a running server at once, and any replica that can
/// read the store can verify. Comparison is constant-time over every stored hash.
public final class TokenStore: Sendable {
    private struct Record: Codable, Sendable {
        var sha256: String
        var namespace: String
        var serviceAccount: String
        var createdAt: Date
        var expiresAt: Date?
    }

    private struct File: Codable, Sendable {
        var tokens: [Record] = []
    }

    public let path: String

    public init(dataDirectory: String) {
        path = (dataDirectory as NSString).appendingPathComponent("tokens.json")
    }

    /// Mints a token and stores its hash. The token itself is returned once and never stored.
    public func create(namespace: String, serviceAccount: String, ttl: TimeInterval?, now: Date = Date()) throws -> String {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let token = "trellis-" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        var file = try load()
        file.tokens.append(
            Record(
                sha256: Self.digest(token).map { String(format: "%02x", $0) }.joined(),
                namespace: namespace, serviceAccount: serviceAccount, createdAt: now,
                expiresAt: ttl.map { now.addingTimeInterval($0) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try SecretFiles.write(String(decoding: try encoder.encode(file), as: UTF8.self) + "\n", to: path)
        return token
    }

    /// The grant of a valid, unexpired token, or nil. Throws when the store cannot be read, so
    /// that the caller refuses the stream for that reason (and says so) rather than as a bad token.
    public func verify(_ token: String, now: Date = Date()) throws -> TokenGrant? {
        let file = try load()
        let presented = Self.digest(token)
        var match: Record?
        for record in file.tokens {
            // Every record is compared in full, so timing does not reveal how close a guess was.
            if Self.constantTimeEqual(presented, Self.bytes(hex: record.sha256)) { match = record }
        }
        guard let match, match.expiresAt.map({ $0 > now }) ?? true else { return nil }
        return TokenGrant(namespace: match.namespace, serviceAccount: match.serviceAccount, expiresAt: match.expiresAt)
    }

    private func load() throws -> File {
        guard FileManager.default.fileExists(atPath: path) else { return File() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CAError.io(path, (error as NSError).localizedDescription)
        }
        do {
            return try decoder.decode(File.self, from: data)
        } catch {
            throw CAError.invalidMaterial(path, "not a Trellis token store: \(error)")
        }
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
