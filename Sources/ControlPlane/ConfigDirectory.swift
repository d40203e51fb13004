import Foundation
public import MeshAPI

/// The `--config-dir` of `trellis serve`: every `*.yaml` / `*.yml` file below it, read as one
/// set of Istio resources. Watched by polling, which works on every filesystem and editor
/// (atomic renames included) and costs little for a directory of config files.
public struct ConfigDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Reads every config file, sorted by path. Throws a one-line reason when the directory
    /// cannot be read.
    public func read() throws(ControlPlaneError) -> [ConfigFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .configDirectory(path, "no such directory")
        }
        guard isDirectory.boolValue else { throw .configDirectory(path, "not a directory") }
        guard FileManager.default.isReadableFile(atPath: path),
            let enumerator = FileManager.default.enumerator(atPath: path)
        else { throw .configDirectory(path, "permission denied") }
        var files: [ConfigFile] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            let full = (path as NSString).appendingPathComponent(relative)
            // A file that vanishes or is half-written between listing and reading is picked
            // up on the next poll.
            guard let contents = try? String(contentsOfFile: full, encoding: .utf8) else { continue }
            files.append(ConfigFile(path: full, contents: contents))
        }
        return files.sorted { $0.path < $1.path }
    }
}

/// Errors `trellis serve` reports in one line before exiting.
public enum ControlPlaneError: Error, CustomStringConvertible {
    case configDirectory(String, String)
    case dataDirectory(String, String)
    case addressInUse(String)
    case invalidAddress(String)
    case certificateAuthority(String)

    public var description: String {
        switch self {
        case .configDirectory(let path, let reason): "cannot read config dir '\(path)': \(reason)"
        case .dataDirectory(let path, let reason): "cannot use data dir '\(path)': \(reason)"
        case .addressInUse(let address): "cannot listen on \(address): address already in use"
        case .invalidAddress(let text): "invalid address '\(text)': expected HOST:PORT, e.g. 127.0.0.1:15010"
        case .certificateAuthority(let reason): "cannot start the certificate authority: \(reason)"
        }
    }
}
