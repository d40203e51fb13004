import Foundation
import GRDB

/// The SQLite layout of a config store and every statement on it: current entries, the change
/// history that `watch(after:)` replays, and one meta row with the revision and the point
/// through which history was compacted. Migrations only ever add: an existing database is
/// never erased.
enum SQLiteSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 entries, changes, meta") { db in
            try db.execute(
                sql: """
                    CREATE TABLE entries (
                        "key" TEXT PRIMARY KEY NOT NULL,
                        value BLOB NOT NULL,
                        create_revision INTEGER NOT NULL,
                        mod_revision INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE changes (
                        revision INTEGER NOT NULL,
                        "key" TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('put', 'delete')),
                        value BLOB,
                        create_revision INTEGER,
                        PRIMARY KEY (revision, "key")
                    ) WITHOUT ROWID;
                    CREATE TABLE meta (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        revision INTEGER NOT NULL,
                        compacted_revision INTEGER NOT NULL
                    );
                    INSERT INTO meta (id, revision, compacted_revision) VALUES (1, 0, 0);
                    """)
        }
        return migrator
    }()

    struct Meta {
        var revision: StoreRevision
        /// History through this revision is gone.
        var compacted: StoreRevision
    }

    static func meta(_ db: Database) throws -> Meta {
        guard let row = try Row.fetchOne(db, sql: "SELECT revision, compacted_revision FROM meta WHERE id = 1") else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "the meta row is missing")
        }
        return try Meta(revision: row.decode(forColumn: "revision"), compacted: row.decode(forColumn: "compacted_revision"))
    }

    static func entry(_ db: Database, key: String) throws -> StoredEntry? {
        try Row.fetchOne(db, sql: #"SELECT * FROM entries WHERE "key" = ?"#, arguments: [key]).map(entry)
    }

    /// A range scan from `prefix` that stops at the first key without it: bytewise, using the
    /// primary key (LIKE would be case-insensitive and treat % and _ as wildcards).
    static func entries(_ db: Database, prefix: String) throws -> [StoredEntry] {
        let rows = try Row.fetchCursor(db, sql: #"SELECT * FROM entries WHERE "key" >= ? ORDER BY "key""#, arguments: [prefix])
        var entries: [StoredEntry] = []
        while let row = try rows.next() {
            let entry = try entry(row)
            guard entry.key.hasBytePrefix(prefix) else { break }
            entries.append(entry)
        }
        return entries
    }

    static func changes(_ db: Database, prefix: String, after revision: StoreRevision) throws -> [StoreEvent] {
        let rows = try Row.fetchCursor(
            db, sql: #"SELECT * FROM changes WHERE revision > ? ORDER BY revision, "key""#, arguments: [revision])
        var events: [StoreEvent] = []
        while let row = try rows.next() {
            let key = try row.decode(String.self, forColumn: "key")
            guard key.hasBytePrefix(prefix) else { continue }
            let revision = try row.decode(StoreRevision.self, forColumn: "revision")
            switch try row.decode(String.self, forColumn: "kind") {
            case "put":
                let value = try row.decode(Data.self, forColumn: "value")
                let created = try row.decode(StoreRevision.self, forColumn: "create_revision")
                events.append(.put(StoredEntry(key: key, value: [UInt8](value), createRevision: created, modRevision: revision)))
            default:
                events.append(.delete(key: key, modRevision: revision))
            }
        }
        return events
    }

    /// Applies one transaction's events (all at `revision`), records them in the history and
    /// drops the history older than the last `historyLimit` revisions.
    static func apply(_ events: [StoreEvent], at revision: StoreRevision, historyLimit: Int, in db: Database) throws {
        for event in events {
            switch event {
            case .put(let entry):
                // COALESCE: an empty Data binds as NULL, and an empty value is still a value.
                try db.execute(
                    sql: #"""
                        INSERT INTO entries ("key", value, create_revision, mod_revision) VALUES (?, COALESCE(?, X''), ?, ?)
                        ON CONFLICT ("key") DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision
                        """#,
                    arguments: [entry.key, Data(entry.value), entry.createRevision, entry.modRevision])
                try db.execute(
                    sql: #"INSERT INTO changes (revision, "key", kind, value, create_revision) VALUES (?, ?, 'put', COALESCE(?, X''), ?)"#,
                    arguments: [revision, entry.key, Data(entry.value), entry.createRevision])
            case .delete(let key, _):
                try db.execute(sql: #"DELETE FROM entries WHERE "key" = ?"#, arguments: [key])
                try db.execute(
                    sql: #"INSERT INTO changes (revision, "key", kind) VALUES (?, ?, 'delete')"#, arguments: [revision, key])
            }
        }
        let compacted = Transaction.compactionPoint(after: revision, historyLimit: historyLimit)
        try db.execute(sql: "DELETE FROM changes WHERE revision <= ?", arguments: [compacted])
        try db.execute(
            sql: "UPDATE meta SET revision = ?, compacted_revision = max(compacted_revision, ?) WHERE id = 1",
            arguments: [revision, compacted])
    }

    private static func entry(_ row: Row) throws -> StoredEntry {
        try StoredEntry(
            key: row.decode(forColumn: "key"),
            value: [UInt8](row.decode(Data.self, forColumn: "value")),
            createRevision: row.decode(forColumn: "create_revision"),
            modRevision: row.decode(forColumn: "mod_revision"))
    }
}
