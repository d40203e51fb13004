import CertificateAuthority
import ConfigStore
import Foundation
import Testing

@testable import ControlPlane

/// The mesh root shared by replicas through the store, its key sealed with `--store-key-file`.
@Suite struct StoredCertificateAuthorityTests {
    static let key = StoreKey(bytes: Array(repeating: 7, count: 32))

    @Test("replicas starting at once agree on one root, whose key is never stored in the clear")
    func oneRootForAll() async throws {
        let store = InMemoryConfigStore()
        defer { store.close() }
        let roots = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await StoredCertificateAuthority.loadOrCreate(
                        store: store, key: Self.key, trustDomain: "cluster.local"
                    ).rootCertificatePEM
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(roots.count == 1)
        let stored = try #require(try await store.get(StoredCertificateAuthority.storeKey))
        #expect(!String(decoding: stored.value, as: UTF8.self).contains("PRIVATE KEY"))
        // A later start (a restarted replica) signs under the same root.
        let again = try await StoredCertificateAuthority.loadOrCreate(store: store, key: Self.key, trustDomain: "cluster.local")
        #expect(roots == [again.rootCertificatePEM])
        let issued = try again.issue(for: WorkloadIdentity(trustDomain: "cluster.local", namespace: "default", serviceAccount: "a"), lifetime: 3600)
        #expect(issued.certificateChainPEM.contains("BEGIN CERTIFICATE"))
    }

    @Test("another key cannot open the root: the replica refuses to start, the root is untouched")
    func wrongKeyFailsClosed() async throws {
        let store = InMemoryConfigStore()
        defer { store.close() }
        _ = try await StoredCertificateAuthority.loadOrCreate(store: store, key: Self.key, trustDomain: "cluster.local")
        let before = try await store.get(StoredCertificateAuthority.storeKey)
        await #expect(throws: ControlPlaneError.self) {
            _ = try await StoredCertificateAuthority.loadOrCreate(
                store: store, key: StoreKey(bytes: Array(repeating: 8, count: 32)), trustDomain: "cluster.local")
        }
        #expect(try await store.get(StoredCertificateAuthority.storeKey) == before)
    }

    @Test("the key file must be 32 base64 bytes that only its owner can read")
    func keyFileRules() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = Data(repeating: 1, count: 32).base64EncodedString() + "\n"
        func write(_ name: String, _ text: String, mode: Int) throws -> String {
            let path = directory.file(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            return path
        }
        _ = try StoreKey.load(path: try write("good", good, mode: 0o600))
        #expect(throws: ControlPlaneError.self) { try StoreKey.load(path: try write("open", good, mode: 0o644)) }
        #expect(throws: ControlPlaneError.self) {
            try StoreKey.load(path: try write("short", Data(repeating: 1, count: 16).base64EncodedString(), mode: 0o600))
        }
        #expect(throws: ControlPlaneError.self) { try StoreKey.load(path: try write("text", "not base64!", mode: 0o600)) }
        #expect(throws: ControlPlaneError.self) { try StoreKey.load(path: directory.file("missing")) }
    }
}
