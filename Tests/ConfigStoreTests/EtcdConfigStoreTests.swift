import ConfigStore
import EtcdStore
import Testing

/// What only the etcd backend has: members that go away and come back, several members, a
/// namespace shared with others, and replicas on one etcd. Each test runs real etcd processes.
@Suite struct EtcdConfigStoreTests {
    @Test("a killed etcd answers .unavailable naming it, soon; after a restart on the same data all is back")
    func killedAndRestarted() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let store = try EtcdConfigStore(endpoints: [server.endpoint], requestTimeout: .seconds(1))
                defer { store.close() }
                try await store.put("/a", [1])
                let revision = try await store.put("/b", [2])
                let watch = store.watch(prefix: "", after: revision)

                server.kill()
                let endpoint = "127.0.0.1:\(server.clientPort)"
                try await expectUnavailable(naming: endpoint) { _ = try await store.revision() }
                try await expectUnavailable(naming: endpoint) { _ = try await store.get("/a") }
                try await expectUnavailable(naming: endpoint) { _ = try await store.list(prefix: "") }
                try await expectUnavailable(naming: endpoint) { try await store.put("/c", [3]) }
                try await expectUnavailable(naming: endpoint) { _ = try await remainingEvents(of: watch) }

                try await server.restart()
                let entries = try await eventually { try await store.list(prefix: "") }
                #expect(entries.entries.map(\.key) == ["/a", "/b"])
                #expect(entries.revision == revision)
                #expect(try await store.put("/c", [3]) == revision + 1)
                let events = try await nextEvents(1, of: store.watch(prefix: "", after: revision))
                #expect(events.map(\.key) == ["/c"])
            }
        }
    }

    @Test("a frozen etcd (connection open, no answer) times out as .unavailable instead of hanging")
    func frozen() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let store = try EtcdConfigStore(endpoints: [server.endpoint], requestTimeout: .seconds(1))
                defer { store.close() }
                try await store.put("/a", [1])
                server.freeze(true)
                try await expectUnavailable(naming: "127.0.0.1:\(server.clientPort)") { _ = try await store.get("/a") }
                // A write that may have reached etcd says so: it is not sent again elsewhere.
                try await expectUnavailable(naming: "outcome is unknown") { try await store.put("/b", [2]) }
                server.freeze(false)
                let entry = try await eventually { try await store.get("/a") }
                #expect(entry?.value == [1])
            }
        }
    }

    @Test("an unreachable endpoint is passed over; when none answers, the error names them all")
    func failover() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let dead = EtcdEndpoint(host: "127.0.0.1", port: try EtcdServer.freePort())
                let store = try EtcdConfigStore(endpoints: [dead, server.endpoint], requestTimeout: .seconds(1))
                defer { store.close() }
                #expect(try await store.put("/a", [1]) == 1, "a write never sent to the dead endpoint goes on")
                #expect(try await store.get("/a")?.value == [1])
                let watch = store.watch(prefix: "", after: 0)
                #expect(try await nextEvents(1, of: watch).map(\.key) == ["/a"])

                let allDead = try EtcdConfigStore(
                    endpoints: [dead, EtcdEndpoint(host: "127.0.0.1", port: try EtcdServer.freePort())],
                    requestTimeout: .seconds(1))
                defer { allDead.close() }
                let error = await storeError { _ = try await allDead.get("/a") }
                guard case .unavailable(let reason) = error else {
                    Issue.record("expected .unavailable, got \(String(describing: error))")
                    return
                }
                for endpoint in allDead.endpoints { #expect(reason.contains(endpoint.description), "\(reason)") }
            }
        }
    }

    @Test("a watch outlives its member: it resumes on another one, no event lost or repeated")
    func watchAcrossMembers() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.withCluster(of: 3, in: directory) { members in
                let store = try EtcdConfigStore(endpoints: members.map(\.endpoint), requestTimeout: .seconds(2))
                defer { store.close() }
                let watch = store.watch(prefix: "/k/", after: 0)
                for index in 1...3 { try await store.put("/k/\(index)", [UInt8(index)]) }
                #expect(try await nextEvents(3, of: watch).map(\.revision) == [1, 2, 3])

                members[0].kill()  // the member every call went to first
                // Reads pass over the dead member; once one answers, the cluster has a leader.
                _ = try await eventually { try await store.revision() }
                for index in 4...6 { try await store.put("/k/\(index)", [UInt8(index)]) }
                let events = try await nextEvents(3, of: watch)
                #expect(events.map(\.revision) == [4, 5, 6])
                #expect(events.map(\.key) == ["/k/4", "/k/5", "/k/6"])
            }
        }
    }

    @Test("a watch on a member cut off from the others ends with .unavailable instead of going silent")
    func watchOnIsolatedMember() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.withCluster(of: 3, in: directory) { members in
                let store = try EtcdConfigStore(endpoints: members.map(\.endpoint), requestTimeout: .seconds(1))
                defer { store.close() }
                let watch = store.watch(prefix: "", after: 0)
                try await store.put("/k", [1])
                #expect(try await nextEvents(1, of: watch).map(\.key) == ["/k"])

                // The watch's member stays up but loses its quorum, so it gets no more changes;
                // the other two take connections and never answer.
                members[1].freeze(true)
                members[2].freeze(true)
                try await expectUnavailable(naming: "no etcd member answered") {
                    _ = try await remainingEvents(of: watch, timeout: .seconds(30))
                }
                members[1].freeze(false)
                members[2].freeze(false)
                _ = try await eventually { try await store.revision() }
                try await store.put("/k", [2])
                #expect(try await nextEvents(1, of: store.watch(prefix: "", after: 1)).map(\.revision) == [2])
            }
        }
    }

    @Test("keys live under the namespace: stores on one etcd see only their own")
    func namespaces() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let mesh = try EtcdConfigStore(endpoints: [server.endpoint])
                // Its namespace starts with the other's: "/trellis2/…" is not under "/trellis/".
                let other = try EtcdConfigStore(endpoints: [server.endpoint], namespace: "/trellis2")
                let whole = try EtcdConfigStore(endpoints: [server.endpoint], namespace: "")
                defer { for store in [mesh, other, whole] { store.close() } }
                #expect(mesh.namespace == "/trellis")
                try await mesh.put("/k", [1])
                try await other.put("/k", [2])
                #expect(try await mesh.list(prefix: "").entries.map(\.value) == [[1]])
                #expect(try await other.list(prefix: "").entries.map(\.value) == [[2]])
                #expect(try await whole.list(prefix: "").entries.map(\.key) == ["/trellis/k", "/trellis2/k"])
                #expect(try await mesh.get("/k")?.value == [1])

                // The contract lets a backend refuse keys; this one wants them to start with "/".
                #expect(await storeError { try await mesh.put("k", [1]) }?.isInvalidKey == true)
                #expect(try await mesh.get("k") == nil)
                let listed = try await mesh.list(prefix: "k")
                #expect(listed.entries.isEmpty)
                #expect(listed.revision == 2)

                #expect(throws: EtcdStoreConfigurationError.self) {
                    try EtcdConfigStore(endpoints: [server.endpoint], namespace: "/trellis/")
                }
            }
        }
    }

    @Test("replicas on one etcd agree: same revisions, and each sees the other's commits")
    func replicas() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let first = try EtcdConfigStore(endpoints: [server.endpoint])
                let second = try EtcdConfigStore(endpoints: [server.endpoint])
                defer { for store in [first, second] { store.close() } }
                let watch = second.watch(prefix: "", after: 0)
                let created = try await first.put("/k", [1], expect: .absent)
                #expect(try await second.get("/k") == StoredEntry(key: "/k", value: [1], createRevision: created, modRevision: created))
                let swapped = try await second.put("/k", [2], expect: .modRevision(created))
                #expect(await storeError { try await first.put("/k", [3], expect: .modRevision(created)) }
                    == .conflict(key: "/k", expected: .modRevision(created), actualModRevision: swapped))
                #expect(try await first.revision() == second.revision())
                #expect(try await nextEvents(2, of: watch).map(\.revision) == [created, swapped])
            }
        }
    }

    @Test("a commit beyond etcd's --max-txn-ops (128) is refused whole, saying why")
    func transactionLimit() async throws {
        try await withScratchDirectory { directory in
            try await EtcdServer.with(in: directory) { server in
                let store = try EtcdConfigStore(endpoints: [server.endpoint])
                defer { store.close() }
                try await expectUnavailable(naming: "too many operations in txn request") {
                    try await store.commit((0...128).map { .put(key: "/k/\($0)", value: []) })
                }
                #expect(try await store.revision() == 0)
                #expect(try await store.commit((1...128).map { .put(key: "/k/\($0)", value: []) }) == 1)
            }
        }
    }

    @Test("endpoints parse from etcd://HOST:PORT[,HOST:PORT...]")
    func endpointURLs() throws {
        let endpoints = try EtcdEndpoint.parse(url: "etcd://10.0.0.1:2379,etcd-2.example:2379,[::1]:23790")
        #expect(endpoints == [
            EtcdEndpoint(host: "10.0.0.1", port: 2379), EtcdEndpoint(host: "etcd-2.example", port: 2379),
            EtcdEndpoint(host: "::1", port: 23790),
        ])
        #expect(endpoints.map(\.description) == ["10.0.0.1:2379", "etcd-2.example:2379", "[::1]:23790"])
        for bad in ["http://h:1", "etcd://", "etcd://h", "etcd://h:0", "etcd://h:70000", "etcd://::1:2379", "etcd://h:1,h:1", "etcd://h:1,"] {
            #expect(throws: EtcdStoreConfigurationError.self, "\(bad)") { try EtcdEndpoint.parse(url: bad) }
        }
    }
}

/// Expects `body` to fail with `.unavailable` whose reason contains `naming`, within 15 s
/// (the stores here time calls out after a second or two; the rest is slack for a busy CI).
private func expectUnavailable(
    naming: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async throws {
    let clock = ContinuousClock()
    let start = clock.now
    let error = await storeError(body)
    #expect(start.duration(to: clock.now) < .seconds(15), sourceLocation: sourceLocation)
    guard case .unavailable(let reason) = error else {
        Issue.record("expected .unavailable naming \(naming), got \(String(describing: error))", sourceLocation: sourceLocation)
        return
    }
    #expect(reason.contains(naming), "\(reason)", sourceLocation: sourceLocation)
}

/// `body`'s result once it stops failing with `.unavailable`, polled for at most 30 s.
private func eventually<T>(_ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(30)
    while true {
        do {
            return try await body()
        } catch StoreError.unavailable where ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))  // polling, bounded by the deadline
        }
    }
}
