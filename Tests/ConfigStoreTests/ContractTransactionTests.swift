import ConfigStore
import Testing

/// Expectations (compare-and-swap), all-or-nothing transactions and concurrent writers.
@Suite struct ContractTransactionTests {
    @Test("create-only and compare-and-swap succeed when their expectation holds", arguments: StoreBackend.allCases)
    func expectationsThatHold(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let created = try await store.put("/k", [1], expect: .absent)
            let swapped = try await store.put("/k", [2], expect: .modRevision(created))
            #expect(try await store.get("/k") == StoredEntry(key: "/k", value: [2], createRevision: created, modRevision: swapped))
            try await store.delete("/k", expect: .modRevision(swapped))
            #expect(try await store.get("/k") == nil)
            #expect(try await store.delete("/k", expect: .absent) == 3, "a delete expecting absence is a no-op")
        }
    }

    @Test("a failed expectation throws .conflict with the actual state and changes nothing", arguments: StoreBackend.allCases)
    func conflicts(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let revision = try await store.put("/k", [1])
            let cases: [(StoreWrite, StoreError)] = [
                (.put(key: "/k", value: [2], expect: .absent),
                 .conflict(key: "/k", expected: .absent, actualModRevision: revision)),
                (.put(key: "/k", value: [2], expect: .modRevision(revision + 5)),
                 .conflict(key: "/k", expected: .modRevision(revision + 5), actualModRevision: revision)),
                (.put(key: "/new", value: [2], expect: .modRevision(revision)),
                 .conflict(key: "/new", expected: .modRevision(revision), actualModRevision: nil)),
                (.delete(key: "/k", expect: .modRevision(0)),
                 .conflict(key: "/k", expected: .modRevision(0), actualModRevision: revision)),
                (.delete(key: "/k", expect: .absent),
                 .conflict(key: "/k", expected: .absent, actualModRevision: revision)),
                (.delete(key: "/new", expect: .modRevision(revision)),
                 .conflict(key: "/new", expected: .modRevision(revision), actualModRevision: nil)),
            ]
            for (write, expected) in cases {
                #expect(await storeError { try await store.commit([write]) } == expected)
            }
            #expect(try await store.revision() == revision)
            #expect(try await store.list(prefix: "").entries == [
                StoredEntry(key: "/k", value: [1], createRevision: revision, modRevision: revision)
            ])
        }
    }

    @Test("a transaction whose last write conflicts applies none of its writes", arguments: StoreBackend.allCases)
    func allOrNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/keep", [1])
            try await store.put("/guard", [1])
            let before = try await store.list(prefix: "")
            let error = await storeError {
                try await store.commit([
                    .put(key: "/new/a", value: [1]),
                    .delete(key: "/keep"),
                    .put(key: "/keep2", value: [1], expect: .absent),
                    .put(key: "/guard", value: [2], expect: .modRevision(1)),
                ])
            }
            #expect(error == .conflict(key: "/guard", expected: .modRevision(1), actualModRevision: 2))
            #expect(try await store.list(prefix: "") == before)
            #expect(try await store.revision() == 2)
        }
    }

    @Test("with several failing writes, the first in order is reported", arguments: StoreBackend.allCases)
    func firstConflictReported(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/b", [1])
            try await store.put("/a", [1])
            let error = await storeError {
                try await store.commit([.put(key: "/b", value: [], expect: .absent), .put(key: "/a", value: [], expect: .absent)])
            }
            #expect(error == .conflict(key: "/b", expected: .absent, actualModRevision: 1))
        }
    }

    @Test("expectations see the state before the transaction", arguments: StoreBackend.allCases)
    func expectationsAgainstPriorState(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let revision = try await store.put("/a", [1])
            // Both hold against revision 1, although the transaction changes /a.
            try await store.commit([.put(key: "/a", value: [2], expect: .modRevision(revision)), .put(key: "/b", value: [2], expect: .absent)])
            #expect(try await store.list(prefix: "").entries.map(\.value) == [[2], [2]])
        }
    }

    @Test("50 concurrent compare-and-swap increments: no lost update, consecutive revisions", arguments: StoreBackend.allCases)
    func concurrentIncrements(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let start = try await store.put("/counter", bytes("0"))
            let revisions = try await withThrowingTaskGroup(of: StoreRevision.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await increment("/counter", in: store) }
                }
                return try await group.reduce(into: [StoreRevision]()) { $0.append($1) }
            }
            #expect(revisions.sorted() == Array(start + 1...start + 50))
            let counter = try #require(try await store.get("/counter"))
            #expect(String(decoding: counter.value, as: UTF8.self) == "50")
            #expect(counter.createRevision == start)
            #expect(try await store.revision() == start + 50)
        }
    }

    @Test("concurrent writers to distinct keys each get their own revision", arguments: StoreBackend.allCases)
    func concurrentDistinctWriters(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let revisions = try await withThrowingTaskGroup(of: StoreRevision.self) { group in
                for index in 0..<20 {
                    group.addTask { try await store.put("/w/\(index)", bytes("\(index)"), expect: .absent) }
                }
                return try await group.reduce(into: [StoreRevision]()) { $0.append($1) }
            }
            #expect(revisions.sorted() == Array(1...20))
            let entries = try await store.list(prefix: "/w/").entries
            #expect(entries.count == 20)
            #expect(Set(entries.map(\.modRevision)) == Set(1...20))
        }
    }
}

/// Reads, adds one and writes back with compare-and-swap, retrying on conflict; returns the
/// revision of the write that won.
private func increment(_ key: String, in store: any ConfigStore) async throws -> StoreRevision {
    while true {
        let entry = try #require(try await store.get(key))
        let value = try #require(Int(String(decoding: entry.value, as: UTF8.self)))
        do {
            return try await store.put(key, bytes("\(value + 1)"), expect: .modRevision(entry.modRevision))
        } catch StoreError.conflict {
            continue
        }
    }
}
