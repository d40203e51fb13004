/// A problem found while loading config. Errors reject the resource they belong to; warnings
/// only inform. `description` is one line a person (or an editor) can jump to:
/// `FILE:LINE: KIND NAMESPACE/NAME: field.path: message`, with `warning: ` after the line for
/// warnings; the resource part is left out when `key` is nil (e.g. YAML that does not parse) and
/// the field part when `field` is empty.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: Sendable {
        case error, warning
    }

    public var severity: Severity
    public var source: SourceLocation
    public var key: ResourceKey?
    /// The path of the offending field from the document root, e.g. `spec.http[0].route[1].weight`.
    public var field: String
    public var message: String

    public init(severity: Severity, source: SourceLocation, key: ResourceKey?, field: String, message: String) {
        self.severity = severity
        self.source = source
        self.key = key
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = "\(source.file):\(source.line): "
        if severity == .warning { text += "warning: " }
        if let key { text += "\(key): " }
        if !field.isEmpty { text += "\(field): " }
        return text + message
    }
}
