public import ConfigStore
public import Foundation
public import MeshAPI

/// The resources applied through the API: validated exactly as the config dir is (the same
/// loader over the whole set: config dir, stored resources, the request), written to the store
/// all or nothing with compare-and-swap, read back with their revisions. One actor per server,
/// so that an apply is validated against the state it is written over.
public actor MeshResources {
    public enum Action: String, Sendable {
        case created, configured, unchanged, deleted
    }

    /// What happened to one resource of a request.
    public struct Outcome: Sendable {
        public var action: Action
        public var resource: StoredResource
    }

    /// What an apply did (or, dry run, would do), and the warnings of its documents.
    public struct ApplyResult: Sendable {
        public var outcomes: [Outcome]
        public var warnings: [Diagnostic]
    }

    /// What a request path requires of its documents.
    public struct Target: Sendable, Equatable {
        public var kind: ResourceKind
        public var namespace: String
        public var name: String?

        public init(kind: ResourceKind, namespace: String, name: String? = nil) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
        }
    }

    private let store: any ConfigStore
    private let directoryFiles: @Sendable () -> [ConfigFile]
    private let now: @Sendable () -> Date
    private let committed: @Sendable () -> Void

    /// `directoryFiles`: the config dir's files as last applied, validated with every request.
    /// `committed` runs after each write transaction (`trellis_store_writes_total`).
    public init(
        store: any ConfigStore, directoryFiles: @escaping @Sendable () -> [ConfigFile] = { [] },
        now: @escaping @Sendable () -> Date = { Date() }, committed: @escaping @Sendable () -> Void = {}
    ) {
        self.committed = committed
        self.store = store
        self.directoryFiles = directoryFiles
        self.now = now
    }

    /// Validates the documents of `files` (one or more each; a file's path names it in
    /// diagnostics) against the whole configuration and stores every resource in them in one
    /// transaction, or none. `alsoWrite` joins that transaction (e.g. a workload's token).
    /// `lease`: every resource written is bound to it (a store with leases deletes them when it
    /// expires); an unchanged resource is written again so that it moves onto the lease.
    public func apply(
        _ files: [ConfigFile], target: Target? = nil, dryRun: Bool = false, alsoWrite: [StoreWrite] = [],
        lease: StoreLease? = nil
    ) async throws(APIError) -> ApplyResult {
        let (documents, current, loaded) = try await load(files, target: target)
        let diagnostics = loaded.diagnostics
        guard !diagnostics.contains(where: { $0.severity == .error }) else { throw .invalid(diagnostics) }

        // The last document of a key is the one applied (the loader warned about the others).
        var last: [ResourceKey: ConfigDocument] = [:]
        for document in documents { last[document.key] = document }
        var outcomes: [Outcome] = []
        var writes: [StoreWrite] = []
        for key in last.keys.sorted() {
            let document = last[key]!
            let existing = current[key]
            if let written = document.resourceVersion {
                guard let revision = StoreRevision(written) else {
                    throw .badRequest("\(key): metadata.resourceVersion: \"\(written)\" is not a resource version")
                }
                guard existing?.modRevision == revision else {
                    throw .conflict(
                        "\(key): the resource has been modified since resourceVersion \(written)"
                            + (existing.map { " (now \($0.modRevision))" } ?? " (it no longer exists)")
                            + "; get it again and re-apply your change")
                }
            }
            if let existing, existing.document == document.normalized {
                outcomes.append(Outcome(action: .unchanged, resource: existing))
                if lease != nil {
                    do {
                        writes.append(
                            .put(
                                key: StoredResource.storeKey(key), value: try existing.value(),
                                expect: .modRevision(existing.modRevision)))
                    } catch {
                        throw .unavailable("\(key): cannot be stored again: \(error)")
                    }
                }
                continue
            }
            let resource = StoredResource(key: key, document: document.normalized, createdAt: existing?.createdAt ?? now())
            let value: [UInt8]
            do {
                value = try resource.value()
            } catch {
                throw .badRequest("\(key): cannot be stored: \(error)")
            }
            writes.append(
                .put(
                    key: StoredResource.storeKey(key), value: value,
                    expect: existing.map { .modRevision($0.modRevision) } ?? .absent))
            outcomes.append(Outcome(action: existing == nil ? .created : .configured, resource: resource))
        }
        let warnings = diagnostics.filter { $0.severity == .warning }
        writes += alsoWrite
        guard !dryRun, !writes.isEmpty else { return ApplyResult(outcomes: outcomes, warnings: warnings) }
        let revision = try await commit(writes, lease: lease)
        for index in outcomes.indices where outcomes[index].action != .unchanged || lease != nil {
            outcomes[index].resource.modRevision = revision
        }
        return ApplyResult(outcomes: outcomes, warnings: warnings)
    }

    /// Deletes a resource applied through the API. `resourceVersion`: only if it is still that
    /// one. `alsoWrite` joins the transaction (e.g. revoking a workload's tokens).
    public func delete(
        _ key: ResourceKey, resourceVersion: StoreRevision? = nil, dryRun: Bool = false, alsoWrite: [StoreWrite] = []
    ) async throws(APIError) -> StoredResource {
        guard let existing = try await resource(key) else { throw notFound(key, changing: true) }
        if let resourceVersion, resourceVersion != existing.modRevision {
            throw .conflict("\(key): the resource has been modified since resourceVersion \(resourceVersion) (now \(existing.modRevision))")
        }
        if !dryRun {
            _ = try await commit(
                [.delete(key: StoredResource.storeKey(key), expect: .modRevision(existing.modRevision))] + alsoWrite)
        }
        return existing
    }

    /// The whole configuration an apply is validated against (config dir and stored resources),
    /// as loaded: what a request can refer to.
    public func configuration() async throws(APIError) -> MeshConfig {
        ConfigLoader.load(directoryFiles() + (try await storedResources()).values.map(\.configFile)).config
    }

    /// The whole configuration as it would be with `files` applied (`trellis diff`), and the
    /// diagnostics of those files. Throws `.invalid` when they have errors.
    public func candidate(_ files: [ConfigFile]) async throws(APIError) -> (config: MeshConfig, warnings: [Diagnostic]) {
        let (_, _, loaded) = try await load(files, target: nil, replacingDirectory: true)
        guard !loaded.diagnostics.contains(where: { $0.severity == .error }) else { throw .invalid(loaded.diagnostics) }
        return (loaded.config, loaded.diagnostics)
    }

    /// The request's documents, the stored resources, and the loader's result over the whole
    /// configuration with the request in place (its diagnostics: the request's only).
    /// `replacingDirectory`: a request document replaces the config dir's of the same key (what
    /// editing the file would do), instead of being an error.
    private func load(_ files: [ConfigFile], target: Target?, replacingDirectory: Bool = false) async throws(APIError)
        -> (documents: [ConfigDocument], current: [ResourceKey: StoredResource], loaded: LoadResult)
    {
        let defaultNamespace = target?.namespace ?? "default"
        var documents: [ConfigDocument] = []
        var validated: [ConfigFile] = []
        for file in files {
            let split: [ConfigDocument]
            do {
                split = try ConfigDocuments.split(file.contents, defaultNamespace: defaultNamespace)
            } catch {
                // The loader says precisely what is wrong, with the line; the split only that it is.
                let diagnostics = ConfigLoader.load([ConfigFile(path: file.path, contents: file.contents, origin: .api)])
                    .diagnostics
                if diagnostics.contains(where: { $0.severity == .error }) { throw .invalid(diagnostics) }
                throw .badRequest("\(file.path): \(error)")
            }
            documents += split
            // A document without a namespace takes the path's: validate what will be stored then.
            let contents = defaultNamespace == "default" ? file.contents : split.map(\.normalized).joined(separator: "---\n")
            validated.append(ConfigFile(path: file.path, contents: contents, origin: .api))
        }
        guard !documents.isEmpty else { throw .badRequest("no resources in the request") }
        if let target { try check(documents, against: target) }

        let current = try await storedResources()
        let applied = Set(documents.map(\.key))
        let sources = Set(files.map(\.path))
        let directory = replacingDirectory ? directoryFiles().map { Self.file($0, without: applied) } : directoryFiles()
        let all = directory + current.values.filter { !applied.contains($0.key) }.map(\.configFile) + validated
        var loaded = ConfigLoader.load(all)
        loaded.diagnostics = loaded.diagnostics.filter { sources.contains($0.source.file) }
        return (documents, current, loaded)
    }

    /// `file` without its documents of `keys` (unchanged when it has none, or does not split:
    /// a preview only, and the loader reports such a file by itself).
    private static func file(_ file: ConfigFile, without keys: Set<ResourceKey>) -> ConfigFile {
        guard let documents = try? ConfigDocuments.split(file.contents), documents.contains(where: { keys.contains($0.key) })
        else { return file }
        let kept = documents.filter { !keys.contains($0.key) }.map(\.normalized).joined(separator: "---\n")
        return ConfigFile(path: file.path, contents: kept, origin: file.origin)
    }

    /// One resource, or nil.
    public func resource(_ key: ResourceKey) async throws(APIError) -> StoredResource? {
        do {
            guard let entry = try await store.get(StoredResource.storeKey(key)) else { return nil }
            return try StoredResource(entry)
        } catch {
            throw .unavailable("cannot read the store: \(error)")
        }
    }

    /// The resources of `kind`, in `namespace` or all, sorted by namespace and name; and the
    /// store revision they were read at.
    public func list(_ kind: ResourceKind, namespace: String?) async throws(APIError) -> ([StoredResource], StoreRevision) {
        let prefix = StoredResource.kindPrefix(kind) + (namespace.map { "\($0)/" } ?? "")
        do {
            let (entries, revision) = try await store.list(prefix: prefix)
            return (try entries.map { entry throws(StoredResourceError) in try StoredResource(entry) }, revision)
        } catch {
            throw .unavailable("cannot read the store: \(error)")
        }
    }

    /// A 404 that says where the resource is defined when the config dir has it (a 409 when
    /// the request meant to change it: the API cannot).
    public func notFound(_ key: ResourceKey, changing: Bool = false) -> APIError {
        for file in directoryFiles() {
            // A file that does not split is reported by the config status; here it only cannot be named.
            guard let documents = try? ConfigDocuments.split(file.contents),
                let document = documents.first(where: { $0.key == key })
            else { continue }
            let message = "\(key) is defined in the config dir (\(file.path):\(document.line)), not through the API"
            return changing ? .conflict(message + "; edit or remove it there") : .notFound(message)
        }
        return .notFound("\(key) not found")
    }

    private func storedResources() async throws(APIError) -> [ResourceKey: StoredResource] {
        do {
            let (entries, _) = try await store.list(prefix: StoredResource.keyPrefix)
            var resources: [ResourceKey: StoredResource] = [:]
            for entry in entries {
                let resource = try StoredResource(entry)
                resources[resource.key] = resource
            }
            return resources
        } catch {
            throw .unavailable("cannot read the store: \(error)")
        }
    }

    /// The store's leases, when it has them (etcd): what a replica writes for a proxy it serves
    /// lives only while it keeps the lease alive.
    public nonisolated var leases: (any LeasingConfigStore)? { store as? any LeasingConfigStore }

    private func commit(_ writes: [StoreWrite], lease: StoreLease? = nil) async throws(APIError) -> StoreRevision {
        do {
            let revision: StoreRevision
            if let lease, let leases {
                revision = try await leases.commit(writes, lease: lease)
            } else {
                revision = try await store.commit(writes)
            }
            committed()
            return revision
        } catch let error as StoreError {
            if case .conflict(let key, _, _) = error {
                throw .conflict("\(key) changed while this request was being applied; retry")
            }
            throw .unavailable("cannot write the store: \(error)")
        } catch {
            throw .unavailable("cannot write the store: \(error)")
        }
    }

    private func check(_ documents: [ConfigDocument], against target: Target) throws(APIError) {
        for document in documents {
            let key = document.key
            if key.kind != target.kind {
                throw .badRequest("\(key): kind: the path is for \(target.kind.rawValue), the body is a \(key.kind.rawValue)")
            }
            if key.namespace != target.namespace {
                throw .badRequest(
                    "\(key): metadata.namespace: \"\(key.namespace)\" does not match the path's namespace \"\(target.namespace)\"")
            }
            if let name = target.name, key.name != name {
                throw .badRequest("\(key): metadata.name: \"\(key.name)\" does not match the path's name \"\(name)\"")
            }
        }
    }
}
