import Synchronization

/// One object per distinct table of resources across every proxy class, workload and the
/// previous configuration: classes that translate to the same clusters or endpoints (sidecars
/// of different namespaces usually do) hold one table, not one each, and a class translated
/// again for a new configuration keeps the tables that did not change. Streams compare shared
/// tables by identity, in no time, and a group whose snapshot is made of the same tables as
/// before is not pushed at all.
public final class TablePool: Sendable {
    private struct State {
        var generation = 0
        var current: [UInt64: [ResourceTable]] = [:]
        var previous: [UInt64: [ResourceTable]] = [:]
        /// The same tables by the digest of their names, this configuration's and the previous one's.
        var currentNames: [UInt64: [ResourceTable]] = [:]
        var previousNames: [UInt64: [ResourceTable]] = [:]

        func names(_ digest: UInt64) -> [ResourceTable] {
            (currentNames[digest] ?? []) + (previousNames[digest] ?? [])
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// `snapshot` with each table replaced by the pooled one of the same contents, pooling those
    /// that are new. `generation`: the configuration it was translated from; tables of
    /// configurations before the previous one are let go.
    public func intern(_ snapshot: Snapshot, generation: Int) -> Snapshot {
        snapshot.interning { table in
            state.withLock { state in
                if generation > state.generation {
                    state.previous = state.current
                    state.current = [:]
                    state.previousNames = state.currentNames
                    state.currentNames = [:]
                    state.generation = generation
                }
                if let same = state.current[table.digest]?.first(where: { $0.hasSameContents(as: table) }) { return same }
                var pooled = state.previous[table.digest]?.first { $0.hasSameContents(as: table) } ?? table
                if pooled === table, let sameNames = state.names(table.namesDigest).first(where: { $0.hasSameNames(as: table) }) {
                    // New contents under the same names (an endpoint moved): the subscriptions
                    // that shared the old names keep comparing by identity.
                    pooled = table.sharingNames(of: sameNames)
                }
                state.current[table.digest, default: []].append(pooled)
                state.currentNames[table.namesDigest, default: []].append(pooled)
                return pooled
            }
        }
    }
}
