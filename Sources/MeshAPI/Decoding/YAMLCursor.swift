import Yams

/// A YAML node together with its field path and line, and decoding of the scalar and
/// collection shapes Istio's schema uses. Every mismatch becomes an error naming the path;
/// the value is then nil (or empty) and decoding goes on, so one pass reports every problem.
struct YAMLCursor {
    let node: Node
    let path: String
    let line: Int
    let context: DocumentContext

    init(node: Node, path: String, line: Int, context: DocumentContext) {
        self.node = node
        self.path = path
        self.line = line
        self.context = context
        context.record(path, line: line)
    }

    /// Yams' line of a node, shifted to the line in the whole file.
    static func line(of node: Node, in context: DocumentContext) -> Int {
        (node.mark?.line ?? 1) + context.lineOffset
    }

    /// The YAML tag (`int`, `str`, ...) of the node; see `PlainScalar` for why it is not Yams'.
    var tagName: Tag.Name {
        let resolved = Tag.Name(rawValue: node.tag.rawValue)
        guard case .scalar(let scalar) = node else { return resolved }
        return PlainScalar.tag(of: scalar, resolved: resolved)
    }

    var isEmptyMapping: Bool {
        if case .mapping(let mapping) = node { return mapping.isEmpty }
        return false
    }

    var isEmptyList: Bool {
        if case .sequence(let sequence) = node { return sequence.isEmpty }
        return false
    }

    var isNull: Bool {
        if case .scalar = node { return tagName == .null }
        return false
    }

    func error(_ message: String) {
        context.error(path, line: line, message)
    }

    /// What the YAML holds, for "expected X, got Y" messages.
    var shape: String {
        switch node {
        case .mapping: return "object"
        case .sequence: return "list"
        case .alias: return "alias"
        case .scalar(let scalar):
            switch tagName {
            case .int: return "integer \(scalar.string)"
            case .float: return "number \(scalar.string)"
            case .bool: return "boolean \(scalar.string)"
            case .null: return "null"
            default: return "string \"\(scalar.string)\""
            }
        }
    }

    func typeError(_ expected: String) {
        error("expected \(expected), got \(shape)")
    }

    // MARK: Scalars

    func string() -> String? {
        guard case .scalar(let scalar) = node else {
            typeError("string")
            return nil
        }
        switch tagName {
        case .int, .float, .bool, .null:
            // Kubernetes reads YAML as JSON: an unquoted 80 or true is not a string.
            typeError("string (quote the value)")
            return nil
        default:
            return scalar.string
        }
    }

    /// An integer in `range`; the bounds are the schema's, not the semantic ones that
    /// validation checks later (e.g. ports are uint32 here, 1–65535 there).
    func integer(in range: ClosedRange<Int64>) -> Int64? {
        guard case .scalar(let scalar) = node else {
            typeError("integer")
            return nil
        }
        let value: Int64?
        switch tagName {
        case .int:
            value = PlainScalar.integer(scalar.string)
        case .float:
            // JSON has one number type: 80.0 is the integer 80, 80.5 is not an integer.
            if let double = PlainScalar.double(scalar.string), double.rounded() == double, abs(double) < 9.2e18 {
                value = Int64(double)
            } else {
                value = nil
            }
        default:
            typeError("integer")
            return nil
        }
        guard let value else {
            error("Invalid value: \(scalar.string): expected an integer")
            return nil
        }
        guard range.contains(value) else {
            error("Invalid value: \(value): must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return value
    }

    func uint32() -> UInt32? { integer(in: 0...Int64(UInt32.max)).map { UInt32($0) } }
    func int32() -> Int32? { integer(in: Int64(Int32.min)...Int64(Int32.max)).map { Int32($0) } }
    func uint64() -> UInt64? { integer(in: 0...Int64.max).map { UInt64($0) } }

    func double() -> Double? {
        guard case .scalar(let scalar) = node, tagName == .int || tagName == .float,
            let value = PlainScalar.double(scalar.string) ?? PlainScalar.integer(scalar.string).map(Double.init)
        else {
            typeError("number")
            return nil
        }
        guard value.isFinite else {
            error("Invalid value: \(value): must be a finite number")
            return nil
        }
        return value
    }

    func bool() -> Bool? {
        guard case .scalar(let scalar) = node, tagName == .bool, let value = PlainScalar.bool(scalar.string) else {
            typeError("boolean")
            return nil
        }
        return value
    }

    /// A Go duration. Istio's schema requires at least 1ms almost everywhere; `allowZero` is for
    /// the few fields where 0 has a meaning (a session cookie's ttl).
    func duration(allowZero: Bool = false) -> IstioDuration? {
        guard let text = string() else { return nil }
        let duration: IstioDuration
        do {
            duration = try IstioDuration(parsing: text)
        } catch {
            self.error(error.description)
            return nil
        }
        if duration.milliseconds < (allowZero ? 0 : 1) {
            self.error("Invalid value: \"\(text)\": must be a valid duration greater than 1ms")
            return nil
        }
        return duration
    }

    /// A string naming one case of `E`, in Istio's upper-case spelling.
    func enumeration<E: RawRepresentable & CaseIterable>(_: E.Type, aliases: [String: E] = [:]) -> E?
    where E.RawValue == String {
        guard let text = string() else { return nil }
        if let value = E(rawValue: text) ?? aliases[text] { return value }
        let supported = (E.allCases.map(\.rawValue) + aliases.keys.sorted()).map { "\"\($0)\"" }
        error("Unsupported value: \"\(text)\": supported values: \(supported.joined(separator: ", "))")
        return nil
    }

    // MARK: Collections

    /// The entries of a list, each decoded by `decode`; nil results are dropped.
    func list<T>(_ decode: (YAMLCursor) -> T?) -> [T] {
        guard case .sequence(let sequence) = node else {
            typeError("list")
            return []
        }
        return sequence.enumerated().compactMap { index, element in
            decode(
                YAMLCursor(
                    node: element, path: FieldPath.element(path, index),
                    line: Self.line(of: element, in: context), context: context))
        }
    }

    func strings() -> [String] { list { $0.string() } }

    /// The entries of a map with arbitrary keys (labels, headers, ports by name). Keys are
    /// read as strings whatever their YAML type, as JSON object keys are.
    func map<T>(_ decode: (String, YAMLCursor) -> T?) -> [String: T] {
        guard case .mapping(let mapping) = node else {
            typeError("object")
            return [:]
        }
        var result: [String: T] = [:]
        for (_, keyNode, valueNode) in Self.entries(of: mapping) {
            guard case .scalar(let keyScalar) = keyNode else {
                context.error(path, line: Self.line(of: keyNode, in: context), "map keys must be strings")
                continue
            }
            let key = keyScalar.string
            let child = YAMLCursor(
                node: valueNode, path: FieldPath.entry(path, key),
                line: Self.line(of: keyNode, in: context), context: context)
            if let value = decode(key, child) { result[key] = value }
        }
        return result
    }

    func stringMap() -> [String: String] { map { $1.string() } }

    /// The entries of a mapping, with YAML merge keys (`<<: *defaults`) applied as Kubernetes'
    /// parser does: merged entries count unless the mapping sets the same key itself.
    static func entries(of mapping: Node.Mapping) -> [(key: String, keyNode: Node, value: Node)] {
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        var merged: [(key: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping {
            if case .scalar(let scalar) = key, scalar.string == "<<", scalar.style == .plain {
                let sources: [Node] = if case .sequence(let list) = value { Array(list) } else { [value] }
                for case .mapping(let source) in sources {
                    merged += Self.entries(of: source)
                }
            } else {
                entries.append((key: key.string ?? "", keyNode: key, value: value))
            }
        }
        for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
            entries.append(entry)
        }
        return entries
    }

    /// Reads a mapping with known fields; see `ObjectReader`.
    func object<T>(_ decode: (ObjectReader) -> T?) -> T? {
        guard let reader = ObjectReader(self) else { return nil }
        let value = decode(reader)
        reader.reportUnknownFields()
        return value
    }
}
