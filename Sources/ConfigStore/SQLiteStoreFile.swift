import Foundation
import GRDB

/// Opening a store file fail-closed: a missing file is created 0600, an existing one is
/// checked before the store writes to it, and nothing here ever deletes, truncates or
/// recreates an existing file.
enum SQLiteStoreFile {
    /// Creates a missing file with mode 0600 from its first byte: SQLite creates the -wal and
    /// -shm files with the mode of the database file, so they are 0600 too, without touching
    /// the process umask (which other threads share). An existing file's mode is left as is.
    /// An existing non-empty file must start with the SQLite header, checked before SQLite
    /// opens it; an empty one is a first start that stopped before SQLite wrote anything.
    static func prepare(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            guard errno == ENOENT else { throw StoreError.unavailable("\(path): \(lastError())") }
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw StoreError.unavailable("cannot create \(path): \(lastError())") }
            close(descriptor)
            return
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw StoreError.corrupt(path: path, detail: "not a regular file")
        }
        guard info.st_size > 0 else { return }
        let header = try readHeader(path)
        guard header.count == 100, header.starts(with: Array("SQLite format 3\0".utf8)) else {
            throw StoreError.corrupt(path: path, detail: "not a SQLite database (no SQLite header)")
        }
    }

    /// SQLite's own consistency check and the schema's provenance, on a plain connection: the
    /// pool would first switch the file to WAL, and the migrator would add tables to any file.
    static func verify(_ path: String, configuration: Configuration) throws {
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let outcome = Result {
            try queue.read { db in
                let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard problems == ["ok"] else {
                    throw StoreError.corrupt(path: path, detail: "quick_check: " + problems.prefix(5).joined(separator: "; "))
                }
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                if !tables.isEmpty, !tables.contains("grdb_migrations") {
                    throw StoreError.corrupt(path: path, detail: "not a Trellis config store (tables: \(tables.joined(separator: ", ")))")
                }
                if try SQLiteSchema.migrator.hasBeenSuperseded(db) {
                    throw StoreError.corrupt(path: path, detail: "written by a newer Trellis (unknown schema migrations)")
                }
            }
        }
        try queue.close()
        try outcome.get()
    }

    /// The store's view of a database failure, naming the file.
    static func storeError(_ error: any Error, path: String) -> any Error {
        switch error {
        case let error as StoreError:
            return error
        case let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB:
            return StoreError.corrupt(path: path, detail: error.message ?? error.description)
        case let error as DatabaseError:
            return StoreError.unavailable("\(path): \(error.message ?? error.description)")
        case let error as RowDecodingError:
            return StoreError.corrupt(path: path, detail: error.description)
        default:
            return error
        }
    }

    private static func readHeader(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError.unavailable("cannot read \(path): \(lastError())") }
        defer { close(descriptor) }
        var header = [UInt8](repeating: 0, count: 100)
        var filled = 0
        while filled < header.count {
            let count = header.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw StoreError.unavailable("cannot read \(path): \(lastError())") }
            if count == 0 { break }
            filled += count
        }
        return Array(header.prefix(filled))
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
