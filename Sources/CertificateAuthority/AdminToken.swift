import Foundation

/// The admin API's bearer token: `DATA_DIR/admin-token` (0600), created on the first start
/// and read on every later one; a token that is not there is never silently replaced by a new
/// one when the file exists but cannot be read. Presented tokens are compared in constant time.
public struct AdminToken: Sendable {
    public static let fileName = "admin-token"

    private let digest: [UInt8]

    /// Reads the token, creating it when the file does not exist.
    public static func loadOrCreate(dataDirectory: String) throws -> AdminToken {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: path) {
            return try AdminToken(token: read(path))
        }
        let token = TokenStore.randomToken()
        try SecretFiles.write(token + "\n", to: path)
        return AdminToken(token: token)
    }

    /// The token of a file written by `loadOrCreate` (for clients: `--token-file`).
    public static func read(_ path: String) throws -> String {
        let token = try SecretFiles.read(path).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CAError.invalidMaterial(path, "the admin token file is empty") }
        guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw CAError.invalidMaterial(path, "not a token (one line, no spaces)")
        }
        return token
    }

    public init(token: String) {
        digest = TokenStore.digest(token)
    }

    /// Whether `presented` is the token. Compares digests, so timing says nothing about it.
    public func accepts(_ presented: String) -> Bool {
        TokenStore.constantTimeEqual(TokenStore.digest(presented), digest)
    }
}
