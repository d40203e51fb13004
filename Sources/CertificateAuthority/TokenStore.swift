import Crypto
public import Foundation

/// What a bootstrap token proves: the proxy presenting it runs as this service account.
public struct TokenGrant: Sendable, Equatable {
    public var namespace: String
    public var serviceAccount: String
    public var expiresAt: Date?
    /// The WorkloadEntry (in `namespace`) the token was minted for by `trellis workload register`.
    public var workload: String?
    /// The token's SHA-256 (hex): which stream to end when it is revoked.
    public var sha256: String

    public init(
        namespace: String, serviceAccount: String, expiresAt: Date? = nil, workload: String? = nil, sha256: String = ""
    ) {
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.expiresAt = expiresAt
        self.workload = workload
        self.sha256 = sha256
    }
}

/// One token as stored: its SHA-256 (hex) and what it grants. The JSON of both the store's
/// entries and the old `tokens.json`.
public struct TokenRecord: Codable, Sendable {
    public var sha256: String
    public var namespace: String
    public var serviceAccount: String
    public var createdAt: Date
    public var expiresAt: Date?
    /// Set for a token of `trellis workload register`: deregistering the workload revokes it.
    public var workload: String?

    public init(
        sha256: String, namespace: String, serviceAccount: String, createdAt: Date, expiresAt: Date?,
        workload: String? = nil
    ) {
        self.sha256 = sha256
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.workload = workload
    }
}

/// The token file of Trellis before the store (`DATA_DIR/tokens.json`, SHA-256 hashes): read
/// once to move its tokens into the store. Also the digest and constant-time comparison every
/// token check uses.
public final class TokenStore: Sendable {
    private struct File: Codable, Sendable {
        var tokens: [TokenRecord] = []
    }

    public let path: String

    public init(dataDirectory: String) {
        path = (dataDirectory as NSString).appendingPathComponent("tokens.json")
    }

    /// Every token of the file (none when there is no file). Throws when it cannot be read.
    public func records() throws -> [TokenRecord] {
        try load().tokens
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

    /// 32 random bytes, base64url without padding: a new bearer token.
    public static func randomToken() -> String {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    public static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
