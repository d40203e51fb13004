import ConfigStore
import EtcdAPI
import Foundation

/// Where the store's keys and revisions live in etcd.
///
/// Keys: a store key starts with "/" and is kept as `namespace + key` (`/trellis/resources/…`
/// for the default namespace), so that one etcd can hold several meshes and other
/// applications side by side; nothing outside `namespace + "/"` is ever read or written.
///
/// Revisions: etcd's are cluster-wide and a fresh cluster is at 1, while an empty store is at
/// 0, so store revision = etcd revision − 1. The mapping is fixed, so every replica reports
/// the same revision for the same state. An etcd shared with other writers moves the store
/// revision with their writes too: revisions stay increasing and consistent, only not
/// consecutive.
struct EtcdKeySpace: Sendable {
    let namespace: String
    private let namespaceBytes: [UInt8]

    /// `namespace` is "" (the whole etcd) or starts with "/" and does not end with one.
    init(namespace: String) throws {
        if !namespace.isEmpty, !Self.isRooted(namespace) || namespace.utf8.last == UInt8(ascii: "/") {
            throw EtcdStoreConfigurationError(
                "namespace \(namespace.debugDescription) must be empty or start, and not end, with /")
        }
        if namespace.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw EtcdStoreConfigurationError("namespace \(namespace.debugDescription) contains a control character")
        }
        self.namespace = namespace
        namespaceBytes = Array(namespace.utf8)
    }

    static func storeRevision(_ etcdRevision: Int64) -> StoreRevision { etcdRevision - 1 }

    static func etcdRevision(_ storeRevision: StoreRevision) -> Int64 { storeRevision + 1 }

    /// Refuses keys that no backend stores (`Transaction.validate`) and keys outside the
    /// namespace's "/" (the contract lets a backend refuse keys; ours all start with "/").
    func validate(_ writes: [StoreWrite]) throws {
        try Transaction.validate(writes)
        if let write = writes.first(where: { !Self.isRooted($0.key) }) {
            throw StoreError.invalidKey("\(write.key.debugDescription) does not start with / (the etcd store keeps keys under a namespace)")
        }
    }

    /// Starts with "/" as bytes (`hasPrefix` compares Characters: "/" and a combining mark
    /// are one).
    static func isRooted(_ key: String) -> Bool { key.utf8.first == UInt8(ascii: "/") }

    /// The etcd key of a store key.
    func etcdKey(_ key: String) -> Data { Data(namespaceBytes + Array(key.utf8)) }

    /// The etcd key range [key, rangeEnd) holding the store keys that start with `prefix`;
    /// nil when no store key can (a non-empty prefix without the leading "/").
    func range(prefix: String) -> (key: Data, rangeEnd: Data)? {
        if prefix.isEmpty { return (etcdKey("/"), etcdKey("0")) }  // "0" is "/" + 1
        guard Self.isRooted(prefix) else { return nil }
        let start = namespaceBytes + Array(prefix.utf8)
        return (Data(start), Data(Self.prefixEnd(start)))
    }

    /// The whole namespace: what a watch for a prefix that matches nothing listens to.
    var everything: (key: Data, rangeEnd: Data) { (etcdKey("/"), etcdKey("0")) }

    /// etcd's "prefix + 1": the last byte below 0xFF incremented, the rest dropped.
    private static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        guard let last = prefix.lastIndex(where: { $0 < 0xFF }) else { return [0] }  // [0]: to the end
        return Array(prefix[..<last]) + [prefix[last] + 1]
    }

    /// The store key of an etcd key; throws for a key that is not one of ours (not under the
    /// namespace, or not UTF-8: written by something else).
    func storeKey(_ etcdKey: Data) throws -> String {
        let bytes = [UInt8](etcdKey)
        guard bytes.starts(with: namespaceBytes + [UInt8(ascii: "/")]),
            let key = String(validating: bytes.dropFirst(namespaceBytes.count), as: UTF8.self)
        else {
            throw StoreError.corrupt(
                path: "etcd namespace \(namespace.isEmpty ? "/" : namespace)",
                detail: "key \(String(decoding: bytes, as: UTF8.self).debugDescription) was not written by this store")
        }
        return key
    }

    func entry(_ kv: Mvccpb_KeyValue) throws -> StoredEntry {
        StoredEntry(
            key: try storeKey(kv.key), value: [UInt8](kv.value),
            createRevision: Self.storeRevision(kv.createRevision), modRevision: Self.storeRevision(kv.modRevision))
    }

    /// A watch event as the store reports it.
    func event(_ event: Mvccpb_Event) throws -> StoreEvent {
        switch event.type {
        case .put: .put(try entry(event.kv))
        case .delete: .delete(key: try storeKey(event.kv.key), modRevision: Self.storeRevision(event.kv.modRevision))
        case .UNRECOGNIZED(let type):
            throw StoreError.unavailable("etcd sent a watch event of unknown type \(type)")
        }
    }
}
