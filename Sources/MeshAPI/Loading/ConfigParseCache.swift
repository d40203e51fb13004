import Synchronization

/// What each file parsed to at its last load, so that a reload re-parses, decodes and validates
/// only the files whose contents changed: in a config dir of thousands of files, one edit costs
/// one file, not all of them. The first phase of loading is a function of a file's path and
/// contents alone, which is what makes the cache safe; the checks across files run every time.
public final class ConfigParseCache: Sendable {
    private let files = Mutex<[String: ParsedFile]>([:])

    public init() {}

    /// The file's documents and contexts, from the cache when its contents are unchanged, else
    /// from `parse`. Callers get their own contexts, since the later phases add diagnostics.
    func documents(
        of file: ConfigFile, parse: (ConfigFile) -> ([LoadedDocument], [DocumentContext])
    ) -> ([LoadedDocument], [DocumentContext]) {
        if let cached = files.withLock({ $0[file.path] }), cached.contents == file.contents {
            return cached.copy()
        }
        let (documents, contexts) = parse(file)
        let parsed = ParsedFile(contents: file.contents, documents: documents, contexts: contexts)
        let copy = parsed.copy()
        files.withLock { $0[file.path] = parsed }
        return copy
    }

    /// Forgets files that are not in `paths` any more.
    func keep(only paths: Set<String>) {
        files.withLock { $0 = $0.filter { paths.contains($0.key) } }
    }
}

/// One file's first-phase results. Its contexts are never handed out, only copies of them, so
/// nothing mutates them after they are stored: that is why sharing it across threads is safe.
private final class ParsedFile: @unchecked Sendable {
    let contents: String
    let documents: [(decoded: DecodedDocument, context: Int)]
    let contexts: [DocumentContext]

    init(contents: String, documents: [LoadedDocument], contexts: [DocumentContext]) {
        self.contents = contents
        self.contexts = contexts.map { $0.copy() }
        // By identity, not a search per document: one file can hold thousands of documents.
        let position = Dictionary(
            uniqueKeysWithValues: contexts.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        self.documents = documents.map { document in
            (document.decoded, position[ObjectIdentifier(document.context)]!)
        }
    }

    func copy() -> ([LoadedDocument], [DocumentContext]) {
        let contexts = contexts.map { $0.copy() }
        return (documents.map { LoadedDocument(decoded: $0.decoded, context: contexts[$0.context]) }, contexts)
    }
}
