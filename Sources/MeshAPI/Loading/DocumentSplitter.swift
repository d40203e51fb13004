/// Splits a multi-document YAML file at its `---` lines, so that a syntax error in one
/// document does not hide the others, and remembers where each document starts.
enum DocumentSplitter {
    struct Chunk {
        var text: String
        /// Lines before the chunk in its file (add to the chunk's 1-based lines).
        var lineOffset: Int
    }

    static func split(_ contents: String) -> [Chunk] {
        var chunks: [Chunk] = []
        let bytes = contents.utf8
        var chunkStart = bytes.startIndex
        var chunkLine = 0
        var lineStart = bytes.startIndex
        var line = 0
        while lineStart < bytes.endIndex {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            if line > chunkLine && isDocumentStart(bytes[lineStart..<lineEnd]) {
                chunks.append(Chunk(text: String(contents[chunkStart..<lineStart]), lineOffset: chunkLine))
                chunkStart = lineStart
                chunkLine = line
            }
            guard lineEnd < bytes.endIndex else { break }
            lineStart = bytes.index(after: lineEnd)
            line += 1
        }
        chunks.append(Chunk(text: String(contents[chunkStart...]), lineOffset: chunkLine))
        return chunks
    }

    /// `---` at column 0, alone or followed by a space (`--- # comment`, `--- !tag`). YAML
    /// reserves it at column 0 even inside block scalars, so this split is exact.
    private static func isDocumentStart(_ line: Substring.UTF8View.SubSequence) -> Bool {
        let dash = UInt8(ascii: "-")
        guard line.count >= 3, line.prefix(3).allSatisfy({ $0 == dash }) else { return false }
        guard let next = line.dropFirst(3).first else { return true }
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r")
    }

    /// The kind, namespace and name a document that does not parse seems to have, read line by
    /// line, so that its resource can still be marked rejected rather than deleted.
    static func guessKey(_ text: String) -> ResourceKey? {
        var kind: ResourceKind?
        var name: String?
        var namespace = "default"
        var inMetadata = false
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let isIndented = line.first == " " || line.first == "\t"
            if !isIndented { inMetadata = false }
            if let value = value(of: "kind", in: line), !isIndented {
                kind = ResourceKind(rawValue: value)
            } else if line.hasPrefix("metadata:") {
                inMetadata = true
            } else if inMetadata && isIndented {
                let field = line.drop { $0 == " " || $0 == "\t" }
                if let value = value(of: "name", in: field) { name = value }
                if let value = value(of: "namespace", in: field) { namespace = value }
            }
        }
        guard let kind, let name else { return nil }
        return ResourceKey(kind: kind, namespace: namespace, name: name)
    }

    private static func value(of key: String, in line: Substring) -> String? {
        guard line.hasPrefix("\(key):") else { return nil }
        var value = line.dropFirst(key.count + 1).trimmingSpaces
        if let hash = value.firstRange(of: " #") { value = String(value[..<hash.lowerBound]) }
        value = value.trimmingSpaces
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = String(value.dropFirst().dropLast())
        }
        return value.isEmpty ? nil : value
    }
}
