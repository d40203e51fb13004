import Synchronization

/// Snapshots of every group of proxies that has at least one stream open, and the streams
/// waiting for them. A group is whatever makes proxies receive identical configuration; proxies
/// of one group share one translation and one serialized copy of every resource.
///
/// Thread-safe. `build` closures run outside the lock and may be slow.
public final class SnapshotCache<Group: Hashable & Sendable>: Sendable {
    private struct Entry {
        var snapshot: Snapshot
        /// The configuration generation the snapshot was built from.
        var generation: Int
        var watchers: [UInt64: AsyncStream<Snapshot>.Continuation] = [:]
    }

    private struct State {
        var entries: [Group: Entry] = [:]
        var nextWatcher: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Groups with at least one stream open.
    public var groups: [Group] {
        state.withLock { Array($0.entries.keys) }
    }

    public func snapshot(for group: Group) -> Snapshot? {
        state.withLock { $0.entries[group]?.snapshot }
    }

    /// Subscribes a stream to its group's snapshots, building the group's first snapshot when the
    /// group is new. The subscription ends, and an empty group is forgotten, when the consumer
    /// stops iterating `updates`.
    public func watch(_ group: Group, generation: Int = 0, build: (Group) throws -> Snapshot) rethrows -> SnapshotSubscription {
        let existing = snapshot(for: group)
        let built = try existing ?? build(group)
        let (updates, continuation) = AsyncStream.makeStream(
            of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let (id, initial) = state.withLock { state -> (UInt64, Snapshot) in
            state.nextWatcher += 1
            let id = state.nextWatcher
            if state.entries[group] == nil { state.entries[group] = Entry(snapshot: built, generation: generation) }
            state.entries[group]!.watchers[id] = continuation
            return (id, state.entries[group]!.snapshot)
        }
        continuation.onTermination = { [weak self] _ in self?.unwatch(group, id: id) }
        return SnapshotSubscription(initial: initial, updates: updates)
    }

    /// Replaces a group's snapshot and hands it to the group's streams if it changed. A snapshot
    /// built from an older configuration `generation` than the group's current one is dropped:
    /// two rebuilds that overlap can never leave the older one in place.
    public func set(_ snapshot: Snapshot, for group: Group, generation: Int = 0) {
        let watchers = state.withLock { state -> [AsyncStream<Snapshot>.Continuation] in
            guard var entry = state.entries[group], generation >= entry.generation, entry.snapshot != snapshot else {
                return []
            }
            entry.snapshot = snapshot
            entry.generation = generation
            state.entries[group] = entry
            return Array(entry.watchers.values)
        }
        for watcher in watchers { watcher.yield(snapshot) }
    }

    /// Rebuilds every group's snapshot from configuration `generation` (after a configuration
    /// change or a certificate renewal) and pushes those that changed.
    public func rebuildAll(generation: Int = 0, _ build: (Group) throws -> Snapshot) rethrows {
        for group in groups {
            set(try build(group), for: group, generation: generation)
        }
    }

    private func unwatch(_ group: Group, id: UInt64) {
        state.withLock { state in
            state.entries[group]?.watchers[id] = nil
            if state.entries[group]?.watchers.isEmpty == true { state.entries[group] = nil }
        }
    }

}

/// A stream's view of its group: the snapshot now, then every later one.
public struct SnapshotSubscription: Sendable {
    public let initial: Snapshot
    public let updates: AsyncStream<Snapshot>

    public init(initial: Snapshot, updates: AsyncStream<Snapshot>) {
        self.initial = initial
        self.updates = updates
    }
}
