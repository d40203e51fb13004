import Yams

/// One document of a request body, as the admin API stores it.
public struct ConfigDocument: Sendable, Equatable {
    public var key: ResourceKey
    /// `metadata.resourceVersion` as written: the store revision the writer last read, for
    /// compare-and-swap. Nil when absent.
    public var resourceVersion: String?
    /// The document as stored: Kubernetes-managed metadata and `status` dropped,
    /// `metadata.namespace` explicit, keys in their written order.
    public var normalized: String
    /// The document's first line in its source (1-based).
    public var line: Int
}

/// Splits request bodies into documents and turns stored documents back into what `get`
/// answers. Validation is not done here: the same text goes through `ConfigLoader`, which
/// reports every problem with its line.
public enum ConfigDocuments {
    /// Metadata the store manages; a document sent back as read (`get -o yaml | apply`) carries them.
    private static let managedMetadata = [
        "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
    ]

    /// The documents of `text`, with `namespace` filled in where absent. Throws for a document
    /// that is not a resource of a kind Trellis reads with a name (run the text through
    /// `ConfigLoader` first: it says precisely what is wrong, with the line).
    public static func split(_ text: String, defaultNamespace: String = "default") throws(ConfigDocumentError) -> [ConfigDocument] {
        var documents: [ConfigDocument] = []
        for chunk in DocumentSplitter.split(text) {
            let line = chunk.lineOffset + 1
            let roots: [Node]
            do {
                let parser = try Parser(yaml: chunk.text, resolver: .basic, constructor: .default, encoding: .utf8)
                var all: [Node] = []
                while let root = try parser.nextRoot() { all.append(root) }
                roots = all
            } catch {
                throw ConfigDocumentError(message: "line \(line): invalid YAML: \(error)")
            }
            if roots.isEmpty { continue }  // comments only
            guard roots.count == 1, case .mapping(var top) = roots[0] else {
                throw ConfigDocumentError(message: "line \(line): expected one resource between `---` lines")
            }
            guard let kindName = top["kind"]?.string, let kind = ResourceKind(rawValue: kindName),
                case .mapping(var metadata)? = top["metadata"], let name = metadata["name"]?.string
            else {
                throw ConfigDocumentError(message: "line \(line): not a resource Trellis serves (kind and metadata.name)")
            }
            let namespace = metadata["namespace"]?.string ?? defaultNamespace
            let resourceVersion = metadata["resourceVersion"]?.string
            for field in managedMetadata { metadata[field] = nil }
            metadata["namespace"] = Node(namespace)
            top["metadata"] = .mapping(metadata)
            top["status"] = nil
            let normalized: String
            do {
                normalized = try Yams.serialize(node: .mapping(top))
            } catch {
                throw ConfigDocumentError(message: "line \(line): \(error)")
            }
            documents.append(
                ConfigDocument(
                    key: ResourceKey(kind: kind, namespace: namespace, name: name), resourceVersion: resourceVersion,
                    normalized: normalized, line: line))
        }
        return documents
    }

    /// A stored document as `get` shows it: with `metadata.resourceVersion` and
    /// `metadata.creationTimestamp`.
    public static func annotated(_ normalized: String, resourceVersion: String, createdAt: String?) throws -> Node {
        guard case .mapping(var top)? = try Yams.compose(yaml: normalized), case .mapping(var metadata)? = top["metadata"] else {
            throw ConfigDocumentError(message: "stored document is not a resource")
        }
        metadata["resourceVersion"] = Node(resourceVersion, Tag(.str), .doubleQuoted)
        if let createdAt { metadata["creationTimestamp"] = Node(createdAt, Tag(.str), .doubleQuoted) }
        top["metadata"] = .mapping(metadata)
        return .mapping(top)
    }

    /// YAML text of one or more documents, separated by `---`.
    public static func yaml(_ nodes: [Node]) throws -> String {
        try nodes.map { try Yams.serialize(node: $0) }.joined(separator: "---\n")
    }

    /// The node as JSON. Plain scalars become numbers, booleans or null where YAML 1.2's core
    /// schema reads them so (as Kubernetes does); quoted ones stay strings.
    public static func json(_ node: Node, indent: String = "") -> String {
        let inner = indent + "  "
        switch node {
        case .scalar(let scalar):
            return jsonScalar(scalar)
        case .mapping(let mapping):
            if mapping.isEmpty { return "{}" }
            let entries = mapping.map { pair in
                "\(inner)\(jsonString(pair.key.string ?? "")): \(json(pair.value, indent: inner))"
            }
            return "{\n" + entries.joined(separator: ",\n") + "\n\(indent)}"
        case .sequence(let sequence):
            if sequence.isEmpty { return "[]" }
            return "[\n" + sequence.map { inner + json($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .alias:
            return "null"
        }
    }

    private static func jsonScalar(_ scalar: Node.Scalar) -> String {
        guard scalar.style == .plain || scalar.style == .any else { return jsonString(scalar.string) }
        let text = scalar.string
        switch text {
        case "", "~", "null", "Null", "NULL": return "null"
        case "true", "True", "TRUE": return "true"
        case "false", "False", "FALSE": return "false"
        default: break
        }
        let numeric = text.allSatisfy { "0123456789-.eE".contains($0) } && text.first != "."
        if numeric, let integer = Int(text) { return String(integer) }
        if numeric, let number = Double(text), number.isFinite { return String(number) }
        return jsonString(text)
    }

    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A document that cannot be stored or read back.
public struct ConfigDocumentError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
