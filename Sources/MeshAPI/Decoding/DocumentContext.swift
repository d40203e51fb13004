/// What decoding and validating one YAML document produces besides the resource: diagnostics,
/// and the line of every field that was read, so that checks run later on the typed spec can
/// still point at the right line.
final class DocumentContext {
    let file: String
    /// Added to Yams' 1-based lines: the document's first line in its file, minus one.
    let lineOffset: Int
    /// Set once the envelope has been read, so later diagnostics name the resource.
    var key: ResourceKey?
    private(set) var diagnostics: [Diagnostic] = []
    private var lines: [String: Int] = [:]

    init(file: String, lineOffset: Int) {
        self.file = file
        self.lineOffset = lineOffset
    }

    /// An independent copy, for a cached parse that later phases add diagnostics to.
    func copy() -> DocumentContext {
        let copy = DocumentContext(file: file, lineOffset: lineOffset)
        copy.key = key
        copy.diagnostics = diagnostics
        copy.lines = lines
        return copy
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    func record(_ path: String, line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    /// The line of `path`, or of its nearest recorded ancestor (a missing field is reported at
    /// the object that should have held it).
    func line(of path: String) -> Int {
        var current = path
        while true {
            if let line = lines[current] { return line }
            guard let parent = FieldPath.parent(of: current) else { return lines[""] ?? lineOffset + 1 }
            current = parent
        }
    }

    func error(_ path: String, line: Int? = nil, _ message: String) {
        add(.error, path, line: line, message)
    }

    func warning(_ path: String, line: Int? = nil, _ message: String) {
        add(.warning, path, line: line, message)
    }

    /// Diagnostics reported before the envelope was read get the resource's key afterwards.
    func assignKeyToDiagnostics() {
        guard let key else { return }
        for index in diagnostics.indices where diagnostics[index].key == nil {
            diagnostics[index].key = key
        }
    }

    private func add(_ severity: Diagnostic.Severity, _ path: String, line: Int?, _ message: String) {
        diagnostics.append(
            Diagnostic(
                severity: severity, source: SourceLocation(file: file, line: line ?? self.line(of: path)),
                key: key, field: path, message: message))
    }
}

/// Field paths as diagnostics print them: `spec.http[0].route[1].destination.host`, with map
/// entries in brackets: `spec.portLevelMtls[8080].mode`.
enum FieldPath {
    static func child(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : "\(parent).\(name)"
    }

    static func element(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }

    static func entry(_ parent: String, _ key: String) -> String {
        "\(parent)[\(key)]"
    }

    /// The path one step up, or nil at the root.
    static func parent(of path: String) -> String? {
        guard !path.isEmpty else { return nil }
        if path.hasSuffix("]"), let open = path.lastIndex(of: "[") {
            return String(path[..<open])
        }
        if let dot = path.lastIndex(of: ".") {
            return String(path[..<dot])
        }
        return ""
    }
}
