import Foundation
import GRDB
import Synchronization

/// A `ConfigStore` in one SQLite file (WAL, `synchronous = FULL`): a commit returns only once
/// it is on disk, so a crash at any moment loses no committed write. One server per file:
/// watchers hear of this instance's commits only, so another process writing the same file is
/// not supported.
public final class SQLiteConfigStore: ConfigStore {
    public let path: String
    private let pool: DatabasePool
    private let historyLimit: Int
    private let hub = WatchHub()
    private let closed = Mutex(false)

    /// Opens the store at `path`, creating a missing file (mode 0600; its directory must
    /// exist). Throws `.corrupt` naming the path when an existing file is not a readable
    /// config store, and leaves that file as it was. Keeps the events of the last
    /// `historyLimit` revisions for `watch(after:)`.
    public init(path: String, historyLimit: Int = 10_000) throws {
        precondition(historyLimit >= 0, "historyLimit must not be negative")
        self.path = path
        self.historyLimit = historyLimit
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            try SQLiteStoreFile.prepare(path)
            try SQLiteStoreFile.verify(path, configuration: configuration)
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteSchema.migrator.migrate(pool)
        } catch {
            throw SQLiteStoreFile.storeError(error, path: path)
        }
    }

    deinit { hub.close() }

    /// Ends every watch stream and closes the database; later calls throw `.unavailable`.
    public func close() throws {
        closed.withLock { $0 = true }
        hub.close()
        do {
            try pool.close()
        } catch {
            throw SQLiteStoreFile.storeError(error, path: path)
        }
    }

    public func revision() async throws -> StoreRevision {
        try await read { db in try SQLiteSchema.meta(db).revision }
    }

    public func get(_ key: String) async throws -> StoredEntry? {
        try await read { db in try SQLiteSchema.entry(db, key: key) }
    }

    public func list(prefix: String) async throws -> (entries: [StoredEntry], revision: StoreRevision) {
        try await read { db in
            (try SQLiteSchema.entries(db, prefix: prefix), try SQLiteSchema.meta(db).revision)
        }
    }

    @discardableResult
    public func commit(_ writes: [StoreWrite]) async throws -> StoreRevision {
        try Transaction.validate(writes)
        try checkOpen()
        let (hub, historyLimit) = (hub, historyLimit)
        do {
            return try await pool.writeWithoutTransaction { db in
                var revision: StoreRevision = 0
                var events: [StoreEvent] = []
                try db.inTransaction(.immediate) {
                    revision = try SQLiteSchema.meta(db).revision
                    events = try Transaction.events(for: writes, at: revision) { try SQLiteSchema.entry(db, key: $0) }
                    guard !events.isEmpty else { return .rollback }
                    revision += 1
                    try SQLiteSchema.apply(events, at: revision, historyLimit: historyLimit, in: db)
                    return .commit
                }
                // Still on the serialized writer, so watchers get transactions in order.
                hub.publish(events)
                return revision
            }
        } catch {
            throw SQLiteStoreFile.storeError(error, path: path)
        }
    }

    public func watch(prefix: String, after: StoreRevision) -> AsyncThrowingStream<StoreEvent, any Error> {
        hub.stream(prefix: prefix, after: after) {
            try await self.read { db in
                let meta = try SQLiteSchema.meta(db)
                guard after >= meta.compacted else {
                    throw StoreError.compacted(requested: after, oldestAvailable: meta.compacted + 1)
                }
                return (try SQLiteSchema.changes(db, prefix: prefix, after: after), meta.revision)
            }
        }
    }

    /// One consistent snapshot (a read transaction).
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try checkOpen()
        do {
            return try await pool.read(body)
        } catch {
            throw SQLiteStoreFile.storeError(error, path: path)
        }
    }

    private func checkOpen() throws {
        if closed.withLock({ $0 }) { throw StoreError.unavailable("\(path): the store is closed") }
    }
}
