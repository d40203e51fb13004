import CertificateAuthority
import ConfigStore
import Foundation

/// The mesh root shared by every replica through the store: the first replica to start creates
/// it (a create-only write, so two replicas starting at once agree on one root), every other
/// one loads it. The root's key is stored sealed with the `--store-key-file` key.
enum StoredCertificateAuthority {
    static let storeKey = "/ca/root"
    private static let purpose = "trellis ca root key"

    private struct Record: Codable {
        var certificate: String
        /// AES-GCM sealed PEM of the root key, base64.
        var sealedKey: String
    }

    static func loadOrCreate(
        store: any ConfigStore, key: StoreKey, trustDomain: String, now: Date = Date()
    ) async throws(ControlPlaneError) -> CertificateAuthority {
        do {
            if let entry = try await store.get(storeKey) { return try open(entry.value, key: key, trustDomain: trustDomain) }
            let (authority, keyPEM) = try CertificateAuthority.newRoot(trustDomain: trustDomain, now: now)
            let record = Record(
                certificate: authority.rootCertificatePEM,
                sealedKey: Data(try key.seal(Array(keyPEM.utf8), purpose: purpose)).base64EncodedString())
            do {
                try await store.put(storeKey, Array(try JSONEncoder().encode(record)), expect: .absent)
                return authority
            } catch StoreError.conflict {
                // Another replica created it first: use theirs.
                guard let entry = try await store.get(storeKey) else {
                    throw ControlPlaneError.certificateAuthority("the store's CA root vanished while starting")
                }
                return try open(entry.value, key: key, trustDomain: trustDomain)
            }
        } catch let error as ControlPlaneError {
            throw error
        } catch {
            throw .certificateAuthority("cannot load or create the mesh root in the store (\(storeKey)): \(error)")
        }
    }

    private static func open(_ value: [UInt8], key: StoreKey, trustDomain: String) throws -> CertificateAuthority {
        let record: Record
        let keyPEM: [UInt8]
        do {
            record = try JSONDecoder().decode(Record.self, from: Data(value))
            guard let sealed = Data(base64Encoded: record.sealedKey) else { throw CocoaError(.coderInvalidValue) }
            keyPEM = try key.open(Array(sealed), purpose: purpose)
        } catch {
            throw ControlPlaneError.certificateAuthority(
                "the mesh root in the store (\(storeKey)) cannot be opened with --store-key-file: "
                    + "every replica needs the same key file")
        }
        return try CertificateAuthority(
            rootCertificatePEM: record.certificate, rootKeyPEM: String(decoding: keyPEM, as: UTF8.self),
            trustDomain: trustDomain, source: "the store's \(storeKey)")
    }
}
