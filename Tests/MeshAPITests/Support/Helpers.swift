import MeshAPI
import Testing

/// Loads YAML text as one file.
func load(_ yaml: String, file: String = "test.yaml") -> LoadResult {
    ConfigLoader.load([ConfigFile(path: file, contents: yaml)])
}

extension LoadResult {
    /// The errors, one per line, for failure messages.
    var errorText: String { errors.map(\.description).joined(separator: "\n") }

    func errors(at field: String) -> [Diagnostic] {
        errors.filter { $0.field == field }
    }
}

/// Expects the YAML to be rejected with an error at `field` whose message contains `message`.
func expectError(
    _ yaml: String, at field: String, containing message: String, sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let result = load(yaml)
    #expect(
        result.errors(at: field).contains { $0.message.contains(message) },
        "expected an error at \(field) containing '\(message)', got:\n\(result.diagnostics.map(\.description).joined(separator: "\n"))",
        sourceLocation: sourceLocation)
    #expect(result.config.keys.isEmpty, "a resource with an error must not be in the config", sourceLocation: sourceLocation)
}

/// Expects the YAML to load without errors (warnings are fine).
@discardableResult
func expectValid(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> LoadResult {
    let result = load(yaml)
    #expect(!result.hasErrors, "\(result.errorText)", sourceLocation: sourceLocation)
    return result
}

/// A VirtualService named `reviews` in `default` with the given spec body (indented two spaces).
func virtualService(_ spec: String, name: String = "reviews", namespace: String = "default") -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: \(name)
      namespace: \(namespace)
    spec:
    \(spec)
    """
}

/// A resource of `kind` with the given spec body.
func resource(_ kind: String, _ spec: String, name: String = "test", apiVersion: String? = nil) -> String {
    let group = ["PeerAuthentication", "AuthorizationPolicy"].contains(kind) ? "security.istio.io" : "networking.istio.io"
    return """
        apiVersion: \(apiVersion ?? "\(group)/v1")
        kind: \(kind)
        metadata:
          name: \(name)
        spec:
        \(spec)
        """
}
