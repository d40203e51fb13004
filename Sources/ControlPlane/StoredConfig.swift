import AdminAPI
import ConfigStore
import Logging
import MeshAPI
import Synchronization

/// The resources applied through the API, mirrored from the store: read whole at start (an
/// unreadable store stops the server with the reason), then kept current by watching it. Each
/// change signals the config watcher, which loads them with the config dir's files through the
/// same validation and pushes. An entry that cannot be read keeps its last readable version:
/// a damaged entry never takes a resource away.
final class StoredConfig: Sendable {
    private struct State {
        /// By store key.
        var resources: [String: StoredResource] = [:]
        var revision: StoreRevision = 0
        /// Entries that cannot be read, by store key, as last logged.
        var unreadable: [String: String] = [:]
        /// Why the store cannot be followed right now (nil while it can): the server then serves
        /// the last configuration it read, read-only (`/readyz`, `trellis_store_available`).
        var problem: String?
    }

    let store: any ConfigStore
    private let wakeup: Wakeup
    private let logger: Logger
    private let state = Mutex(State())

    init(store: any ConfigStore, wakeup: Wakeup, logger: Logger) {
        self.store = store
        self.wakeup = wakeup
        self.logger = logger
    }

    /// Why the store cannot be read now; nil while it is followed.
    var problem: String? { state.withLock { $0.problem } }

    /// The store revision mirrored (cheap: the watcher asks on every poll).
    var revision: StoreRevision { state.withLock { $0.revision } }

    /// The store revision mirrored, and the resources as files for `ConfigLoader`, by path.
    var current: (revision: StoreRevision, files: [ConfigFile], keys: Set<ResourceKey>) {
        state.withLock { state in
            (
                state.revision, state.resources.values.map(\.configFile).sorted { $0.path < $1.path },
                Set(state.resources.values.map(\.key))
            )
        }
    }

    /// Reads every stored resource. Throws when the store cannot be read.
    func load() async throws {
        let (entries, revision) = try await store.list(prefix: StoredResource.keyPrefix)
        state.withLock { state in
            var resources: [String: StoredResource] = [:]
            for entry in entries {
                resources[entry.key] = read(entry, &state) ?? state.resources[entry.key]
            }
            state.resources = resources
            state.revision = revision
            if let problem = state.problem {
                logger.notice("the store is readable again (was: \(problem)); following it")
                state.problem = nil
            }
        }
        wakeup.signal()
    }

    /// Follows the store until cancelled. History the store no longer keeps (or a broken
    /// watch) means reading everything again; until then the last mirror keeps serving.
    func follow() async {
        // Logged once per outage (its message changes with every member tried), not per retry.
        var outage = false
        while !Task.isCancelled {
            let after = state.withLock { $0.revision }
            do {
                for try await event in store.watch(prefix: StoredResource.keyPrefix, after: after) {
                    apply(event)
                    wakeup.signal()
                }
            } catch {
                if !(error is CancellationError), !outage {
                    logger.warning("store watch ended: \(error); reading the store again")
                }
                if case StoreError.unavailable = error { state.withLock { $0.problem = "\(error)" } }
            }
            guard !Task.isCancelled else { return }
            do {
                try await load()
                outage = false
            } catch {
                state.withLock { $0.problem = "\(error)" }
                if !outage { logger.error("cannot read the store: \(error); serving the last configuration read, retrying") }
                outage = true
                try? await Task.sleep(for: .seconds(1))  // cancellation ends the loop above
            }
        }
    }

    private func apply(_ event: StoreEvent) {
        state.withLock { state in
            switch event {
            case .put(let entry):
                if let resource = read(entry, &state) { state.resources[entry.key] = resource }
                state.revision = entry.modRevision
            case .delete(let key, let revision):
                state.resources[key] = nil
                state.unreadable[key] = nil
                state.revision = revision
            }
        }
    }

    /// The entry's resource, or nil (logged once per problem) when it cannot be read.
    private func read(_ entry: StoredEntry, _ state: inout State) -> StoredResource? {
        do {
            let resource = try StoredResource(entry)
            if state.unreadable.removeValue(forKey: entry.key) != nil { logger.notice("store entry \(entry.key) is readable again") }
            return resource
        } catch {
            if state.unreadable[entry.key] != error.description {
                logger.error("\(error); keeping its last readable version")
                state.unreadable[entry.key] = error.description
            }
            return nil
        }
    }
}
