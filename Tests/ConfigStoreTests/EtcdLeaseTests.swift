import ConfigStore
import EtcdStore
import Testing

/// etcd leases: keys that live while their holder keeps the lease alive.
@Suite struct EtcdLeaseTests {
    @Test("a leased key lives while kept alive, goes when the lease expires or is revoked, and every watcher sees it go")
    func leasedKeys() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let store = try EtcdConfigStore(endpoints: [server.endpoint], requestTimeout: .seconds(2))
                defer { store.close() }
                let kept = try await store.grantLease(ttl: .seconds(2))
                let dropped = try await store.grantLease(ttl: .seconds(2))
                try await store.commit([.put(key: "/kept", value: [1])], lease: kept)
                let revision = try await store.commit([.put(key: "/dropped", value: [2])], lease: dropped)
                try await store.put("/plain", [3])
                let watch = store.watch(prefix: "/dropped", after: revision)

                // Keep one alive past the other's expiry; the dropped one's key is deleted by etcd.
                let deadline = ContinuousClock.now + .seconds(30)
                while try await store.get("/dropped") != nil {
                    #expect(ContinuousClock.now < deadline, "the expired lease's key is still there")
                    #expect(try await store.keepAlive(kept))
                    try await Task.sleep(for: .milliseconds(500))  // the keep-alive period under test
                }
                #expect(try await store.get("/kept")?.value == [1])
                #expect(try await store.get("/plain")?.value == [3])
                #expect(try await store.keepAlive(dropped) == false)
                let events = try await nextEvents(1, of: watch)
                #expect(events.map(\.key) == ["/dropped"])
                if case .put = events.first { Issue.record("expected a delete, got \(events)") }

                // A key written again under another lease moves to it; revoking ends it at once.
                let next = try await store.grantLease(ttl: .seconds(60))
                try await store.commit([.put(key: "/kept", value: [4])], lease: next)
                try await store.revoke(kept)
                #expect(try await store.get("/kept")?.value == [4], "the key left the revoked lease")
                try await store.revoke(next)
                #expect(try await store.get("/kept") == nil)
                try await store.revoke(next)  // twice: no error
            }
        }
    }
}
