import Foundation

/// Turns the files and directories a user names into `ConfigFile`s. `trellis validate` and the
/// config dir of `trellis serve` read through here, so both see the same files.
public enum ConfigPaths {
    /// A named file is read whatever its extension; a directory contributes its `*.yaml` and
    /// `*.yml` files, recursively, in path order. Throws for the first path or file that cannot
    /// be read.
    public static func read(_ paths: [String]) throws(ConfigLoadError) -> [ConfigFile] {
        var files: [ConfigFile] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ConfigLoadError(path: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                let scan = try scanDirectory(path)
                if let unreadable = scan.unreadable.first { throw unreadable }
                files += scan.files
            } else {
                switch readFile(path) {
                case .read(let file): files.append(file)
                case .gone: throw ConfigLoadError(path: path, reason: "no such file or directory")
                case .unreadable(let error): throw error
                }
            }
        }
        return files
    }

    /// What a directory holds now: the config files that could be read, in path order, and those
    /// that exist but could not be read or decoded (permissions, an I/O error, not UTF-8). A file
    /// that disappears between listing and reading is simply not there. Throws only when the
    /// directory itself cannot be listed.
    ///
    /// With `previous`, a file whose size, modification time and inode are those it had then is
    /// not read again (its contents are taken from `previous`): watching thousands of files that
    /// do not change costs one `stat` each.
    public static func scanDirectory(_ directory: String, previous: DirectoryScan? = nil) throws(ConfigLoadError) -> DirectoryScan {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ConfigLoadError(path: directory, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw ConfigLoadError(path: directory, reason: "not a directory") }
        guard FileManager.default.isReadableFile(atPath: directory),
            let enumerator = FileManager.default.enumerator(atPath: directory)
        else { throw ConfigLoadError(path: directory, reason: "permission denied") }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            let full = (directory as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                paths.append(full)
            }
        }
        var scan = DirectoryScan()
        let known = Dictionary((previous?.files ?? []).map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
        for path in paths.sorted() {
            let signature = FileSignature(path: path)
            if let signature, let file = known[path], previous?.signatures[path] == signature {
                scan.files.append(file)
                scan.signatures[path] = signature
                continue
            }
            switch readFile(path) {
            case .read(let file):
                scan.files.append(file)
                scan.signatures[path] = signature
            case .gone: continue
            case .unreadable(let error): scan.unreadable.append(error)
            }
        }
        return scan
    }

    private enum FileRead {
        case read(ConfigFile)
        case gone
        case unreadable(ConfigLoadError)
    }

    private static func readFile(_ path: String) -> FileRead {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            guard FileManager.default.fileExists(atPath: path) else { return .gone }
            return .unreadable(ConfigLoadError(path: path, reason: reason(error)))
        }
        guard let contents = String(data: data, encoding: .utf8) else {
            return .unreadable(ConfigLoadError(path: path, reason: "not UTF-8 text"))
        }
        return .read(ConfigFile(path: path, contents: contents))
    }

    private static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue)).lowercased()
        }
        return error.localizedDescription
    }
}

/// A directory's config files as read now (see ``ConfigPaths/scanDirectory(_:previous:)``).
public struct DirectoryScan: Sendable, Equatable {
    public var files: [ConfigFile] = []
    public var unreadable: [ConfigLoadError] = []
    /// What each file read was like on disk when it was read.
    var signatures: [String: FileSignature] = [:]

    public init(files: [ConfigFile] = [], unreadable: [ConfigLoadError] = []) {
        self.files = files
        self.unreadable = unreadable
    }
}

/// Size, modification time (to the nanosecond) and inode of a file: an edit, including an
/// atomic replace by rename, changes at least one of them.
struct FileSignature: Sendable, Equatable {
    var size: Int64
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int
    var inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
        inode = UInt64(info.st_ino)
    }
}
