import Foundation

/// Writes key material: mode 0600 from the first byte (the file is created with that mode,
/// never chmod-ed after the fact), replaced atomically by rename.
public enum SecretFiles {
    /// `mode`: for files that sit beside secrets and need not be secret themselves (0644).
    public static func write(_ contents: String, to path: String, mode: Int = 0o600) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, mode_t(mode))
        guard descriptor >= 0 else { throw CAError.io(path, String(cString: strerror(errno))) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CAError.io(path, String(cString: strerror(errno)))
        }
    }

    static func writePublic(_ contents: String, to path: String) throws {
        do {
            try contents.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CAError.io(path, (error as NSError).localizedDescription)
        }
    }

    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CAError.io(path, (error as NSError).localizedDescription)
        }
    }
}

/// Why the CA could not start or sign. Never contains key material.
public enum CAError: Error, CustomStringConvertible {
    case io(String, String)
    case invalidMaterial(String, String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .invalidMaterial(let path, let reason): "\(path): \(reason)"
        }
    }
}
