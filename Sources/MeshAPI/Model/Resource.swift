/// Where a resource or a problem was written: the file as given to the loader and a 1-based line.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One decoded Istio resource: its identity, Kubernetes metadata and typed `spec`.
/// `source` is the line of the document's first key, so tools can point back at it.
public struct Resource<Spec: Sendable & Equatable>: Sendable, Equatable {
    public var key: ResourceKey
    public var labels: [String: String]
    public var annotations: [String: String]
    public var spec: Spec
    public var source: SourceLocation

    public init(
        key: ResourceKey, labels: [String: String] = [:], annotations: [String: String] = [:],
        spec: Spec, source: SourceLocation
    ) {
        self.key = key
        self.labels = labels
        self.annotations = annotations
        self.spec = spec
        self.source = source
    }

    public var namespace: String { key.namespace }
    public var name: String { key.name }
}
