import Synchronization

/// Hands a group's snapshots to one stream that may be slower than the changes: it holds at
/// most the newest undelivered snapshot (an older one is replaced, never queued), so a slow or
/// stuck proxy costs one snapshot of memory and processes only the latest configuration.
public final class SnapshotMailbox: Sendable {
    private let slot = Mutex<Snapshot?>(nil)

    public init() {}

    /// Stores `snapshot`, replacing any undelivered one. Returns true when the mailbox was
    /// empty, i.e. when the consumer needs waking; while a wake-up is pending, later snapshots
    /// only replace the one it will take.
    public func put(_ snapshot: Snapshot) -> Bool {
        slot.withLock { slot in
            defer { slot = snapshot }
            return slot == nil
        }
    }

    /// The newest undelivered snapshot, emptying the mailbox.
    public func take() -> Snapshot? {
        slot.withLock { slot in
            defer { slot = nil }
            return slot
        }
    }
}
