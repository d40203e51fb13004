/// A key as its UTF-8 bytes: the identity and order every backend uses, so that keys that are
/// canonically equivalent Unicode but different bytes stay different keys (as in etcd).
struct KeyBytes: Hashable, Comparable, Sendable {
    let bytes: [UInt8]

    init(_ key: String) { bytes = Array(key.utf8) }

    static func < (lhs: KeyBytes, rhs: KeyBytes) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Non-empty, no control characters (they would break logs and URLs, and NUL breaks C
    /// strings).
    static func validate(_ key: String) throws {
        guard !key.isEmpty else { throw StoreError.invalidKey("empty key") }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw StoreError.invalidKey("\(key.debugDescription) contains a control character")
        }
    }
}

extension String {
    /// Bytewise prefix test; `hasPrefix` compares Characters and would disagree with SQLite
    /// and etcd on combining marks.
    package func hasBytePrefix(_ prefix: String) -> Bool {
        utf8.starts(with: prefix.utf8)
    }
}
