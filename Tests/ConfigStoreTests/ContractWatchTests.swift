import ConfigStore
import Testing

/// Watching: history then live events, in order, filtered by prefix, and compaction.
@Suite struct ContractWatchTests {
    @Test("a watch from 0 replays the whole history in revision, then key, order", arguments: StoreBackend.allCases)
    func fullHistory(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/k", [1])
            try await store.commit([.put(key: "/z", value: [2]), .put(key: "/b", value: [3]), .delete(key: "/k")])
            try await store.put("/b", [4])
            try await store.delete("/absent")
            try await store.delete("/z")
            let events = try await nextEvents(6, of: store.watch(prefix: "", after: 0))
            #expect(events == [
                .put(StoredEntry(key: "/k", value: [1], createRevision: 1, modRevision: 1)),
                .put(StoredEntry(key: "/b", value: [3], createRevision: 2, modRevision: 2)),
                .delete(key: "/k", modRevision: 2),
                .put(StoredEntry(key: "/z", value: [2], createRevision: 2, modRevision: 2)),
                .put(StoredEntry(key: "/b", value: [4], createRevision: 2, modRevision: 3)),
                .delete(key: "/z", modRevision: 4),
            ])
            #expect(events.map(\.revision) == [1, 2, 2, 2, 3, 4])
        }
    }

    @Test("a watch from the current revision sees only what comes after", arguments: StoreBackend.allCases)
    func liveOnly(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/old", [1])
            try await store.put("/old", [2])
            let stream = store.watch(prefix: "", after: try await store.revision())
            try await store.put("/new", [3])
            try await store.delete("/old")
            #expect(try await nextEvents(2, of: stream) == [
                .put(StoredEntry(key: "/new", value: [3], createRevision: 3, modRevision: 3)),
                .delete(key: "/old", modRevision: 4),
            ])
        }
    }

    @Test("a watch sees only keys under its prefix", arguments: StoreBackend.allCases)
    func prefixFilter(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/b/x", [1])
            try await store.put("/ab", [1])
            try await store.put("/a/1", [1])
            let stream = store.watch(prefix: "/a/", after: 0)
            try await store.commit([.put(key: "/a", value: [2]), .put(key: "/a/2", value: [2]), .put(key: "/a2", value: [2])])
            try await store.put("/a/3", [3])
            #expect(try await nextEvents(3, of: stream).map(\.key) == ["/a/1", "/a/2", "/a/3"])
        }
    }

    @Test("watchers started while commits run get every event exactly once, in order", arguments: StoreBackend.allCases)
    func concurrentWatchers(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let total = 60
            let early = store.watch(prefix: "/c/", after: 0)
            let writer = Task {
                for index in 1...total {
                    try await store.commit([.put(key: "/c/\(index % 7)", value: bytes("\(index)")), .put(key: "/d", value: [])])
                }
            }
            // Joins mid-way: its history read races the writer.
            _ = try await nextEvents(total / 2, of: store.watch(prefix: "/d", after: 0))
            let late = store.watch(prefix: "/c/", after: 0)
            let liveFrom = try await store.revision()
            let lateLive = store.watch(prefix: "/c/", after: liveFrom)
            try await writer.value
            let expected = (1...total).map { StoreRevision($0) }
            #expect(try await nextEvents(total, of: early).map(\.revision) == expected)
            let lateEvents = try await nextEvents(total, of: late)
            #expect(lateEvents.map(\.revision) == expected)
            #expect(lateEvents.map(\.key) == (1...total).map { "/c/\($0 % 7)" })
            try await store.put("/c/last", [])
            let live = try await nextEvents(total - Int(liveFrom) + 1, of: lateLive)
            #expect(live.map(\.revision) == Array(liveFrom + 1...StoreRevision(total) + 1), "no event repeated or skipped")
        }
    }

    @Test("a watch from before the kept history fails with .compacted", arguments: StoreBackend.allCases)
    func compaction(backend: StoreBackend) async throws {
        try await backend.withStore(historyLimit: 3) { store in
            for index in 1...10 {
                try await store.put("/k/\(index)", [UInt8(index)])
            }
            for after in [0, 6] as [StoreRevision] {
                let error = await storeError { _ = try await nextEvents(1, of: store.watch(prefix: "", after: after)) }
                #expect(error == .compacted(requested: after, oldestAvailable: 8))
            }
            let kept = try await nextEvents(3, of: store.watch(prefix: "", after: 7))
            #expect(kept.map(\.revision) == [8, 9, 10])
            #expect(try await store.list(prefix: "/k/").entries.count == 10, "compaction drops history, never entries")
        }
    }

    @Test("watch streams end when the store is closed", arguments: StoreBackend.allCases)
    func endsOnClose(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.put("/k", [1])
            let stream = store.watch(prefix: "", after: 0)
            #expect(try await nextEvents(1, of: stream).map(\.key) == ["/k"])
            try backend.close(store)
            #expect(try await remainingEvents(of: stream).isEmpty)
            #expect(try await remainingEvents(of: store.watch(prefix: "", after: 0)).isEmpty)
            #expect(await storeError { try await store.put("/k", [2]) }.map { if case .unavailable = $0 { true } else { false } } == true)
        }
    }
}
