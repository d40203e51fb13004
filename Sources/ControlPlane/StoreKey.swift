import Crypto
import Foundation

/// `--store-key-file`: the key that encrypts the CA's signing key at rest in a shared store
/// (etcd). One line, 32 random bytes in base64, mode 0600, the same file for every replica:
/// whoever can read the store alone cannot sign.
struct StoreKey: Sendable {
    private let key: SymmetricKey

    init(bytes: [UInt8]) {
        key = SymmetricKey(data: bytes)
    }

    /// Refuses a file others can read, and anything but exactly 32 bytes: a weak or leaked key
    /// is an error at start, never a warning.
    static func load(path: String) throws(ControlPlaneError) -> StoreKey {
        let attributes: [FileAttributeKey: Any]
        let text: String
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .storeKey(path, "cannot read it: \((error as NSError).localizedDescription)")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw .storeKey(path, "mode \(String(mode, radix: 8)) lets others read it; chmod 600 it")
        }
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        else {
            throw .storeKey(path, "must be one line: 32 random bytes in base64 (e.g. head -c 32 /dev/urandom | base64)")
        }
        return StoreKey(bytes: Array(bytes))
    }

    /// AES-256-GCM; `purpose` is authenticated, so a value sealed for one use never opens as another.
    func seal(_ plaintext: [UInt8], purpose: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(purpose.utf8))
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return Array(combined)
    }

    func open(_ sealed: [UInt8], purpose: String) throws -> [UInt8] {
        let box = try AES.GCM.SealedBox(combined: sealed)
        return Array(try AES.GCM.open(box, using: key, authenticating: Array(purpose.utf8)))
    }
}
