import Yams

/// Loads Istio YAML into a validated `MeshConfig`. Each document is parsed, decoded and
/// validated on its own; then checks that need the whole set run (subsets named by routes,
/// hosts no ServiceEntry declares). A key defined more than once is served from its last
/// definition in file order, as `kubectl apply -f DIR` would leave it; the earlier ones get a
/// warning. A resource whose definition has any error is left out of the config and its key
/// listed in `rejected`. Never throws for bad content: every problem becomes a diagnostic with
/// its file and line.
public enum ConfigLoader {
    /// `cache`: the files' earlier parses, reused for files whose contents are unchanged.
    public static func load(_ files: [ConfigFile], cache: ConfigParseCache? = nil) -> LoadResult {
        var documents: [LoadedDocument] = []
        var contexts: [DocumentContext] = []
        for file in files {
            let (loaded, used) = cache?.documents(of: file, parse: loadFile) ?? loadFile(file)
            documents += loaded
            contexts += used
        }
        cache?.keep(only: Set(files.map(\.path)))
        let definitions = lastDefinitions(contexts, apiPaths: Set(files.filter { $0.origin == .api }.map(\.path)))
        documents.removeAll { definitions[$0.decoded.key] !== $0.context }
        CrossResourceValidation.validate(documents)

        var rejected = Set<ResourceKey>()
        for (key, context) in definitions where context.hasErrors { rejected.insert(key) }
        var builder = ConfigBuilder()
        for document in documents where !rejected.contains(document.decoded.key) {
            builder.add(document.decoded)
        }
        let diagnostics = contexts.flatMap(\.diagnostics).enumerated().sorted { a, b in
            (a.element.source.file, a.element.source.line, a.offset) < (b.element.source.file, b.element.source.line, b.offset)
        }.map(\.element)
        return LoadResult(config: builder.config, diagnostics: diagnostics, rejected: rejected)
    }

    /// The context that defines each key: its last document. Earlier ones are told they are
    /// shadowed (and are neither served nor checked against the rest of the set). A key that
    /// both the config dir and the API define is an error on both sides, never a silent
    /// override: neither is served (the last good version keeps serving) until one goes.
    private static func lastDefinitions(_ contexts: [DocumentContext], apiPaths: Set<String>) -> [ResourceKey: DocumentContext] {
        var last: [ResourceKey: DocumentContext] = [:]
        var lastOfOtherOrigin: [ResourceKey: DocumentContext] = [:]
        for context in contexts {
            guard let key = context.key else { continue }
            if let previous = last[key], apiPaths.contains(previous.file) != apiPaths.contains(context.file) {
                lastOfOtherOrigin[key] = previous
            }
            last[key] = context
        }
        for context in contexts {
            guard let key = context.key, let definition = last[key] else { continue }
            if let other = lastOfOtherOrigin[key], context === definition || context === other {
                let elsewhere = context === definition ? other : definition
                let origin = { (c: DocumentContext) in apiPaths.contains(c.file) ? ConfigOrigin.api : .directory }
                context.error(
                    "metadata.name",
                    "\(key) is defined both in \(origin(context).rawValue) and in \(origin(elsewhere).rawValue) "
                        + "(\(elsewhere.file):\(elsewhere.line(of: "metadata.name"))); a resource has one source: "
                        + "delete one of them")
            } else if definition !== context {
                context.warning(
                    "metadata.name",
                    "\(key) is defined again at \(definition.file):\(definition.line(of: "metadata.name")); "
                        + "the later definition is the one served")
            }
        }
        return last
    }

    /// Reads files and directories (recursively, `*.yaml` and `*.yml`, in path order) and loads
    /// them. Throws only when a path cannot be read at all.
    public static func loadPaths(_ paths: [String]) throws(ConfigLoadError) -> LoadResult {
        load(try ConfigPaths.read(paths))
    }

    private static func loadFile(_ file: ConfigFile) -> ([LoadedDocument], [DocumentContext]) {
        var documents: [LoadedDocument] = []
        var contexts: [DocumentContext] = []
        for chunk in DocumentSplitter.split(file.contents) {
            let (loaded, used) = loadChunk(chunk, file: file.path)
            documents += loaded
            contexts += used
        }
        return (documents, contexts)
    }

    /// Parses one `---`-delimited chunk; usually one document, more if it uses `...` markers.
    private static func loadChunk(_ chunk: DocumentSplitter.Chunk, file: String) -> ([LoadedDocument], [DocumentContext]) {
        let roots: [Node]
        do {
            roots = try parse(chunk.text)
        } catch {
            let context = DocumentContext(file: file, lineOffset: chunk.lineOffset)
            context.key = DocumentSplitter.guessKey(chunk.text)
            let (line, message) = describe(error)
            // libyaml reports a problem found at the end of input one line past the text.
            let newlines = chunk.text.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            let lastLine = chunk.text.hasSuffix("\n") ? max(newlines, 1) : newlines + 1
            context.error("", line: chunk.lineOffset + min(max(line, 1), lastLine), "invalid YAML: \(message)")
            return ([], [context])
        }
        var documents: [LoadedDocument] = []
        var contexts: [DocumentContext] = []
        for root in roots {
            let context = DocumentContext(file: file, lineOffset: chunk.lineOffset)
            let cursor = YAMLCursor(node: root, path: "", line: YAMLCursor.line(of: root, in: context), context: context)
            if cursor.isNull { continue }  // an empty document
            contexts.append(context)
            guard let decoded = EnvelopeDecoder.decode(cursor) else {
                context.assignKeyToDiagnostics()
                continue
            }
            if !context.hasErrors { SpecValidation.validate(decoded, context) }
            context.assignKeyToDiagnostics()
            documents.append(LoadedDocument(decoded: decoded, context: context))
        }
        return (documents, contexts)
    }

    /// Every document root in `text`; see `FlowColonCompatibility` for the one repair tried.
    private static func parse(_ text: String) throws -> [Node] {
        var text = text
        var repairs = 0
        while true {
            do {
                // `.basic`: see `PlainScalar`. An explicit encoding spares a read of the environment per document.
                let parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
                var roots: [Node] = []
                while let root = try parser.nextRoot() { roots.append(root) }
                return roots
            } catch {
                guard repairs < 64, let repaired = FlowColonCompatibility.repair(text, after: error) else { throw error }
                text = repaired
                repairs += 1
            }
        }
    }

    /// The 1-based line within the chunk and a one-line message for a Yams error.
    private static func describe(_ error: any Error) -> (Int, String) {
        guard let yamlError = error as? YamlError else { return (1, "\(error)") }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return (mark.line, "\(problem)\(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return (context.mark.line, "duplicate key \(keys) in mapping")
        case .reader(let problem, _, _, _):
            return (1, problem)
        default:
            return (1, "\(yamlError)")
        }
    }
}

/// A decoded document and the context holding its diagnostics and field lines.
struct LoadedDocument {
    var decoded: DecodedDocument
    var context: DocumentContext
}

/// Collects resources into a `MeshConfig`.
struct ConfigBuilder {
    private var serviceEntries: [Resource<ServiceEntry>] = []
    private var workloadEntries: [Resource<WorkloadEntry>] = []
    private var workloadGroups: [Resource<WorkloadGroup>] = []
    private var virtualServices: [Resource<VirtualService>] = []
    private var destinationRules: [Resource<DestinationRule>] = []
    private var gateways: [Resource<Gateway>] = []
    private var sidecars: [Resource<Sidecar>] = []
    private var peerAuthentications: [Resource<PeerAuthentication>] = []
    private var authorizationPolicies: [Resource<AuthorizationPolicy>] = []
    private var secrets: [Resource<Secret>] = []

    mutating func add(_ document: DecodedDocument) {
        func resource<S>(_ spec: S) -> Resource<S> {
            Resource(
                key: document.key, labels: document.labels, annotations: document.annotations, spec: spec,
                source: document.source)
        }
        switch document.spec {
        case .serviceEntry(let spec): serviceEntries.append(resource(spec))
        case .workloadEntry(let spec): workloadEntries.append(resource(spec))
        case .workloadGroup(let spec): workloadGroups.append(resource(spec))
        case .virtualService(let spec): virtualServices.append(resource(spec))
        case .destinationRule(let spec): destinationRules.append(resource(spec))
        case .gateway(let spec): gateways.append(resource(spec))
        case .sidecar(let spec): sidecars.append(resource(spec))
        case .peerAuthentication(let spec): peerAuthentications.append(resource(spec))
        case .authorizationPolicy(let spec): authorizationPolicies.append(resource(spec))
        case .secret(let spec, _): secrets.append(resource(spec))
        }
    }

    var config: MeshConfig {
        MeshConfig(
            serviceEntries: serviceEntries, workloadEntries: workloadEntries, workloadGroups: workloadGroups,
            virtualServices: virtualServices, destinationRules: destinationRules, gateways: gateways,
            sidecars: sidecars, peerAuthentications: peerAuthentications,
            authorizationPolicies: authorizationPolicies, secrets: secrets)
    }
}
