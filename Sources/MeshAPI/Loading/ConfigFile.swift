/// One YAML file's text and the path diagnostics should name. May hold several documents.
public struct ConfigFile: Sendable, Equatable {
    public var path: String
    public var contents: String
    /// Where it comes from: a resource may be defined by one source only.
    public var origin: ConfigOrigin

    public init(path: String, contents: String, origin: ConfigOrigin = .directory) {
        self.path = path
        self.contents = contents
        self.origin = origin
    }
}

/// The two sources of a server's configuration.
public enum ConfigOrigin: String, Sendable, Equatable {
    /// Files: `--config-dir`, or the paths given to `trellis validate`.
    case directory = "the config dir"
    /// The store, through the admin API (`trellis apply`).
    case api = "the API"
}

/// What loading a set of files gives: the valid resources, every problem found, and the keys of
/// the resources that were rejected, so a server can keep serving their last good version.
public struct LoadResult: Sendable {
    /// Only resources without errors.
    public var config: MeshConfig
    /// Sorted by file, then line.
    public var diagnostics: [Diagnostic]
    /// Resources that had an error (including every copy of a key defined twice).
    public var rejected: Set<ResourceKey>

    public init(config: MeshConfig = MeshConfig(), diagnostics: [Diagnostic] = [], rejected: Set<ResourceKey> = []) {
        self.config = config
        self.diagnostics = diagnostics
        self.rejected = rejected
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// A path given to `ConfigLoader.loadPaths` that could not be read.
public struct ConfigLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read '\(path)': \(reason)" }
}
