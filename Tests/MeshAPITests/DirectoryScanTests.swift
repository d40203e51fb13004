import Foundation
import MeshAPI
import Testing

/// Polling a config dir reads only the files that changed on disk.
@Suite struct DirectoryScanTests {
    @Test("a file unchanged on disk (size, mtime, inode) is taken from the previous scan, not read again")
    func unchangedFilesAreNotRead() throws {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("trellis-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }  // best effort: a temp dir
        let path = (directory as NSString).appendingPathComponent("a.yaml")
        try Data("kind: A\n".utf8).write(to: URL(fileURLWithPath: path))
        let first = try ConfigPaths.scanDirectory(directory)
        #expect(first.files.map(\.contents) == ["kind: A\n"])

        // Same size, and the modification time put back: only a scan that reads would notice.
        var before = stat()
        #expect(stat(path, &before) == 0)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data("kind: B\n".utf8))
        try handle.close()
        let times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, times, 0) == 0)
        #expect(try ConfigPaths.scanDirectory(directory, previous: first).files.map(\.contents) == ["kind: A\n"])
        #expect(try ConfigPaths.scanDirectory(directory).files.map(\.contents) == ["kind: B\n"])

        // A real edit changes the size or the time, and is read.
        try Data("kind: Ccc\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ConfigPaths.scanDirectory(directory, previous: first).files.map(\.contents) == ["kind: Ccc\n"])
    }
}
