import ConfigStore
import Foundation
import GRDB
import Testing

/// What only a durable backend promises: persistence, crash safety, refusing a damaged file
/// without touching it, and private file permissions.
@Suite struct SQLiteConfigStoreTests {
    @Test("entries, revision, history and the compaction point survive a reopen")
    func reopen() async throws {
        try await withScratchDirectory { directory in
            let path = directory + "/store.db"
            let first = try SQLiteConfigStore(path: path, historyLimit: 4)
            try await first.commit([.put(key: "/a", value: [1]), .put(key: "/b", value: [])])
            for index in 2...6 { try await first.put("/a", [UInt8(index)]) }
            try await first.delete("/b")
            let before = try await first.list(prefix: "")
            try first.close()

            let second = try SQLiteConfigStore(path: path, historyLimit: 4)
            #expect(try await second.list(prefix: "") == before)
            #expect(try await second.revision() == 7)
            #expect(try await nextEvents(4, of: second.watch(prefix: "", after: 3)).map(\.revision) == [4, 5, 6, 7])
            #expect(await storeError { _ = try await nextEvents(1, of: second.watch(prefix: "", after: 2)) }
                == .compacted(requested: 2, oldestAvailable: 4))
            #expect(try await second.put("/c", [3]) == 8)
            #expect(try await second.get("/a")?.createRevision == 1)
            try second.close()
        }
    }

    @Test("a committed write is on disk when commit returns, without any close (crash)")
    func durableWithoutClose() async throws {
        try await withScratchDirectory { directory in
            let path = directory + "/store.db"
            let writer = try SQLiteConfigStore(path: path)
            try await writer.commit([.put(key: "/a", value: bytes("committed")), .put(key: "/b", value: [0])])
            try await writer.delete("/b")
            // A second instance reads the file while the first never flushed or closed: as
            // after a kill -9, only what SQLite wrote at commit is there.
            let survivor = try SQLiteConfigStore(path: path)
            #expect(try await survivor.revision() == 2)
            #expect(try await survivor.get("/a")?.value == bytes("committed"))
            #expect(try await survivor.get("/b") == nil)
            #expect(try await nextEvents(3, of: survivor.watch(prefix: "", after: 0)).map(\.revision) == [1, 1, 2])
            try survivor.close()
            try writer.close()
        }
    }

    @Test("a file that is not a database is reported with its path and left untouched")
    func garbageFile() async throws {
        try await withScratchDirectory { directory in
            let path = directory + "/store.db"
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            try garbage.write(to: URL(fileURLWithPath: path))
            try expectCorrupt(path, unchanged: garbage)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test("a database cut short (truncated, or only part of its header) is reported, not replaced")
    func truncatedFile() async throws {
        try await withScratchDirectory { directory in
            let path = directory + "/store.db"
            let store = try SQLiteConfigStore(path: path)
            for index in 0..<50 {
                try await store.put("/big/\(index)", [UInt8](repeating: UInt8(index), count: 2000))
            }
            try store.close()
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "closing checkpoints into the file")
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(whole.count > 40_000)

            let half = whole.prefix(whole.count / 2)
            try half.write(to: URL(fileURLWithPath: path))
            try expectCorrupt(path, unchanged: half)

            let headerOnly = whole.prefix(60)
            try headerOnly.write(to: URL(fileURLWithPath: path))
            try expectCorrupt(path, unchanged: headerOnly)
        }
    }

    @Test("a SQLite database of another program is refused, not migrated")
    func foreignDatabase() async throws {
        try await withScratchDirectory { directory in
            let path = directory + "/other.db"
            let other = try DatabaseQueue(path: path)
            try await other.write { try $0.execute(sql: "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')") }
            try other.close()
            let contents = try Data(contentsOf: URL(fileURLWithPath: path))
            try expectCorrupt(path, unchanged: contents)
        }
    }

    @Test("the database and its -wal and -shm files are private (0600); an empty file is a fresh store")
    func permissions() async throws {
        try await withScratchDirectory { directory in
            let path = directory + "/store.db"
            let store = try SQLiteConfigStore(path: path)
            try await store.put("/token", bytes("hash"))
            for file in [path, path + "-wal", path + "-shm"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file)")
            }
            try store.close()

            let empty = directory + "/empty.db"
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let fresh = try SQLiteConfigStore(path: empty)
            #expect(try await fresh.put("/k", [1]) == 1)
            try fresh.close()
        }
    }

    @Test("a store in a missing directory is unavailable, naming the path")
    func missingDirectory() async throws {
        let path = NSTemporaryDirectory() + "trellis-no-such-dir-\(UUID().uuidString)/store.db"
        let error = await storeError { _ = try SQLiteConfigStore(path: path) }
        guard case .unavailable(let reason) = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(path))
    }
}

/// Opening `path` throws `.corrupt` naming it, and leaves its bytes as they were.
private func expectCorrupt(_ path: String, unchanged contents: Data, sourceLocation: SourceLocation = #_sourceLocation) throws {
    do {
        _ = try SQLiteConfigStore(path: path)
        Issue.record("opened a damaged store", sourceLocation: sourceLocation)
    } catch StoreError.corrupt(let reported, let detail) {
        #expect(reported == path, sourceLocation: sourceLocation)
        #expect(!detail.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected .corrupt, got \(error)", sourceLocation: sourceLocation)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == contents, "left untouched", sourceLocation: sourceLocation)
}
