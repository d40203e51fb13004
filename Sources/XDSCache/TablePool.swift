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
                    state.generation = generation
                }
                if let same = state.current[table.digest]?.first(where: { $0.hasSameContents(as: table) }) { return same }
                let pooled = state.previous[table.digest]?.first { $0.hasSameContents(as: table) } ?? table
                state.current[table.digest, default: []].append(pooled)
                return pooled
            }
        }
    }
}
