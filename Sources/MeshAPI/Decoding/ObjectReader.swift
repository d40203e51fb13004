import Yams

/// Reads the fields of one YAML mapping. Decoders ask for each field they know by name; when
/// they are done, every key nobody asked for is reported as an unknown field, so a typo or an
/// unimplemented Istio feature is never silently dropped.
final class ObjectReader {
    let cursor: YAMLCursor
    private let entries: [(key: String, keyNode: Node, value: Node)]
    private var known: Set<String> = []

    init?(_ cursor: YAMLCursor) {
        guard case .mapping(let mapping) = cursor.node else {
            cursor.typeError("object")
            return nil
        }
        self.cursor = cursor
        self.entries = YAMLCursor.entries(of: mapping)
    }

    var path: String { cursor.path }
    var context: DocumentContext { cursor.context }
    var keys: [String] { entries.map(\.key) }

    /// True when the key is written, even as `null` or `{}`.
    func contains(_ name: String) -> Bool {
        entries.contains { $0.key == name }
    }

    /// The field's value, or nil when it is absent or `null` (both mean "unset" in Istio's API).
    func field(_ name: String) -> YAMLCursor? {
        known.insert(name)
        guard let entry = entries.first(where: { $0.key == name }) else { return nil }
        let cursor = YAMLCursor(
            node: entry.value, path: FieldPath.child(path, name),
            line: YAMLCursor.line(of: entry.keyNode, in: context), context: context)
        return cursor.isNull ? nil : cursor
    }

    /// Like `field`, but a missing value is an error ("Required value").
    func required(_ name: String) -> YAMLCursor? {
        let value = field(name)
        if value == nil {
            context.error(FieldPath.child(path, name), line: cursor.line, "Required value")
        }
        return value
    }

    /// Fields of Istio's API that Trellis does not implement: an error when present, because
    /// ignoring them would serve traffic differently from what the user asked for.
    func notSupported(_ names: String...) {
        for name in names {
            known.insert(name)
            guard let entry = entries.first(where: { $0.key == name }) else { continue }
            context.error(
                FieldPath.child(path, name), line: YAMLCursor.line(of: entry.keyNode, in: context),
                "not supported yet: Trellis does not implement this field; remove it")
        }
    }

    /// Marks fields as read without decoding them (metadata Kubernetes adds, `status`).
    func ignore(_ names: String...) {
        known.formUnion(names)
    }

    func ignore(contentsOf names: [String]) {
        known.formUnion(names)
    }

    func reportUnknownFields() {
        for entry in entries where !known.contains(entry.key) {
            var message = "unknown field \"\(entry.key)\""
            if let suggestion = suggestion(for: entry.key) { message += "; did you mean \"\(suggestion)\"?" }
            context.error(
                FieldPath.child(path, entry.key), line: YAMLCursor.line(of: entry.keyNode, in: context), message)
        }
    }

    /// A known field that differs only in case or underscores (`per_try_timeout`, `Host`).
    private func suggestion(for key: String) -> String? {
        func normalized(_ text: String) -> String { text.lowercased().filter { $0 != "_" && $0 != "-" } }
        let target = normalized(key)
        return known.sorted().first { normalized($0) == target }
    }

    // MARK: Typed fields

    func string(_ name: String) -> String? { field(name)?.string() }
    func bool(_ name: String) -> Bool? { field(name)?.bool() }
    func uint32(_ name: String) -> UInt32? { field(name)?.uint32() }
    func int32(_ name: String) -> Int32? { field(name)?.int32() }
    func uint64(_ name: String) -> UInt64? { field(name)?.uint64() }
    func double(_ name: String) -> Double? { field(name)?.double() }
    func strings(_ name: String) -> [String] { field(name)?.strings() ?? [] }
    func stringMap(_ name: String) -> [String: String] { field(name)?.stringMap() ?? [:] }

    func duration(_ name: String, allowZero: Bool = false) -> IstioDuration? {
        field(name)?.duration(allowZero: allowZero)
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type, aliases: [String: E] = [:]) -> E?
    where E.RawValue == String {
        field(name)?.enumeration(type, aliases: aliases)
    }

    func object<T>(_ name: String, _ decode: (ObjectReader) -> T?) -> T? {
        field(name)?.object(decode)
    }

    func list<T>(_ name: String, _ decode: (YAMLCursor) -> T?) -> [T] {
        field(name)?.list(decode) ?? []
    }

    /// A list of objects, each read with `decode`.
    func objects<T>(_ name: String, _ decode: (ObjectReader) -> T?) -> [T] {
        list(name) { $0.object(decode) }
    }

    /// A `{number: N}` port selector, flattened to its number.
    func portSelector(_ name: String) -> UInt32? {
        object(name) { $0.uint32("number") }
    }
}
