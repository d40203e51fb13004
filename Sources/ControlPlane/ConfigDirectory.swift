import Foundation
public import MeshAPI

/// The `--config-dir` of `trellis serve`: every `*.yaml` / `*.yml` file below it, read as one
/// set of Istio resources, through the same code as `trellis validate`. Watched by polling,
/// which works on every filesystem and editor (atomic renames included), woken early by
/// inotify (`DirectoryEvents`); a poll reads only files whose size, modification time or inode
/// changed.
public struct ConfigDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Reads every config file, sorted by path; files that exist but cannot be read are listed
    /// apart. Throws a one-line reason when the directory itself cannot be read.
    /// With `previous`, files unchanged on disk since then are not read again.
    public func read(previous: DirectoryScan? = nil) throws(ControlPlaneError) -> DirectoryScan {
        do {
            return try ConfigPaths.scanDirectory(path, previous: previous)
        } catch {
            throw .configDirectory(path, error.reason)
        }
    }
}

/// Errors `trellis serve` reports in one line before exiting.
public enum ControlPlaneError: Error, CustomStringConvertible {
    case configDirectory(String, String)
    case dataDirectory(String, String)
    case addressInUse(String)
    case invalidAddress(String)
    case certificateAuthority(String)
    /// `--store-key-file` and why it cannot be used.
    case storeKey(String, String)
    case store(String)

    public var description: String {
        switch self {
        case .configDirectory(let path, let reason): "cannot read config dir '\(path)': \(reason)"
        case .dataDirectory(let path, let reason): "cannot use data dir '\(path)': \(reason)"
        case .addressInUse(let address): "cannot listen on \(address): address already in use"
        case .invalidAddress(let text): "invalid address '\(text)': expected HOST:PORT, e.g. 127.0.0.1:15010"
        case .certificateAuthority(let reason): "cannot start the certificate authority: \(reason)"
        case .storeKey(let path, let reason): "cannot use --store-key-file '\(path)': \(reason)"
        case .store(let reason): "cannot open the store: \(reason)"
        }
    }
}
