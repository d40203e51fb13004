import ConfigStore
import EtcdAPI
import Foundation
import SwiftProtobuf

/// A store commit as one etcd Txn, and the conflict read back from a Txn that failed.
enum EtcdTransaction {
    /// One compare per expectation; the writes as the success branch, in key order (etcd hands
    /// a transaction's events to watchers in the order of its operations, so every watcher,
    /// on any replica, sees them in key order as the contract wants); and as the failure
    /// branch a read of every key with an expectation, in `writes` order, to tell which one
    /// failed.
    static func request(for writes: [StoreWrite], in keys: EtcdKeySpace, lease: Int64 = 0) -> Etcdserverpb_TxnRequest {
        var request = Etcdserverpb_TxnRequest()
        for write in writes {
            guard let compare = compare(write.expectation, key: keys.etcdKey(write.key)) else { continue }
            request.compare.append(compare)
            request.failure.append(.with { $0.requestRange = .with { $0.key = keys.etcdKey(write.key) } })
        }
        let ordered = writes.map { (key: keys.etcdKey($0.key), write: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
        for (key, write) in ordered {
            switch write {
            case .put(_, let value, _):
                request.success.append(
                    .with {
                        $0.requestPut = .with {
                            $0.key = key
                            $0.value = Data(value)
                            $0.lease = lease
                        }
                    })
            case .delete:
                // A delete of an absent key changes nothing and, alone, moves no revision.
                request.success.append(.with { $0.requestDeleteRange = .with { $0.key = key } })
            }
        }
        return request
    }

    /// etcd compares an absent key as all zeroes: create_revision 0 is "absent", and a store
    /// modRevision r is etcd's r + 1, never 0.
    private static func compare(_ expectation: StoreExpectation, key: Data) -> Etcdserverpb_Compare? {
        switch expectation {
        case .any:
            return nil
        case .absent:
            return .with {
                $0.key = key
                $0.target = .create
                $0.result = .equal
                $0.createRevision = 0
            }
        case .modRevision(let revision):
            return .with {
                $0.key = key
                $0.target = .mod
                $0.result = .equal
                // No key has a negative modRevision, so -1 never holds (r + 1 would be 0, an
                // absent key's, for r = -1, and overflow for Int64.max).
                $0.modRevision = revision >= 0 && revision < .max ? EtcdKeySpace.etcdRevision(revision) : -1
            }
        }
    }

    /// The `.conflict` for the first write (in `writes` order) whose expectation failed, from
    /// the failure branch's reads (made at the revision the compares saw).
    static func conflict(
        for writes: [StoreWrite], in response: Etcdserverpb_TxnResponse, keys: EtcdKeySpace
    ) throws -> StoreError {
        let expecting = writes.filter { $0.expectation != .any }
        guard response.responses.count == expecting.count else {
            return .unavailable("etcd answered a failed transaction with \(response.responses.count) reads for \(expecting.count) keys")
        }
        for (write, answer) in zip(expecting, response.responses) {
            guard case .responseRange(let range)? = answer.response else {
                return .unavailable("etcd answered a failed transaction's read with \(String(describing: answer.response))")
            }
            let current = try range.kvs.first.map(keys.entry)
            do {
                try Transaction.check(write.expectation, key: write.key, against: current)
            } catch let error as StoreError {
                return error
            }
        }
        return .unavailable("etcd refused a transaction whose expectations all hold at revision "
            + "\(EtcdKeySpace.storeRevision(response.header.revision))")
    }
}
