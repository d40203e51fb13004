import ConfigStore
import EtcdAPI
import GRPCCore
import SwiftProtobuf

/// etcd's leases (Lease service): keys bound to a lease are deleted by etcd when it expires.
extension EtcdConfigStore: LeasingConfigStore {
    public func grantLease(ttl: Duration) async throws -> StoreLease {
        let seconds = max(1, ttl.components.seconds + (ttl.components.attoseconds > 0 ? 1 : 0))
        let response = try await cluster.write("grant a lease") { member, options, attempt in
            try await member.lease.leaseGrant(request: ClientRequest(message: .with { $0.ttl = seconds }), options: options) {
                attempt.sent()
                return try $0.message
            }
        }
        guard response.error.isEmpty, response.id != 0 else {
            throw StoreError.unavailable("etcd refused a lease of \(seconds)s: \(response.error)")
        }
        return StoreLease(id: response.id, ttl: .seconds(response.ttl))
    }

    /// One keep-alive round trip on a stream of its own (a refresh repeated is harmless, so any
    /// member will do).
    public func keepAlive(_ lease: StoreLease) async throws -> Bool {
        try await cluster.read("keep lease \(lease.id) alive") { member, options in
            try await member.lease.leaseKeepAlive(
                request: StreamingClientRequest { writer in try await writer.write(.with { $0.id = lease.id }) },
                options: options
            ) { response in
                for try await answer in response.messages { return answer.ttl > 0 }
                throw RPCError(code: .unavailable, message: "the keep-alive stream ended without an answer")
            }
        }
    }

    public func revoke(_ lease: StoreLease) async throws {
        do {
            _ = try await cluster.read("revoke lease \(lease.id)") { member, options in
                try await member.lease.leaseRevoke(request: ClientRequest(message: .with { $0.id = lease.id }), options: options)
            }
        } catch StoreError.unavailable(let reason) where reason.contains("requested lease not found") {
            // Expired already: its keys are gone, which is what revoking wanted.
        }
    }

    @discardableResult
    public func commit(_ writes: [StoreWrite], lease: StoreLease) async throws -> StoreRevision {
        try await commit(writes, leaseID: lease.id)
    }
}
