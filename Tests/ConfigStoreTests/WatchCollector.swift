import ConfigStore
import Testing

struct WatchTimedOut: Error, CustomStringConvertible {
    let wanted: Int
    var description: String { "no \(wanted) watch events in time" }
}

/// The next `count` events of `stream`, awaited (not polled); throws instead of hanging when
/// they do not come within `timeout`. Callable again on the same stream for the events after.
func nextEvents(
    _ count: Int,
    of stream: AsyncThrowingStream<StoreEvent, any Error>,
    timeout: Duration = .seconds(30)
) async throws -> [StoreEvent] {
    try await withThrowingTaskGroup(of: [StoreEvent].self) { group in
        group.addTask {
            var events: [StoreEvent] = []
            guard count > 0 else { return events }
            for try await event in stream {
                events.append(event)
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw WatchTimedOut(wanted: count)
        }
        defer { group.cancelAll() }
        return try await group.next() ?? []
    }
}

/// Every event until `stream` ends; throws on timeout like `nextEvents`.
func remainingEvents(
    of stream: AsyncThrowingStream<StoreEvent, any Error>,
    timeout: Duration = .seconds(30)
) async throws -> [StoreEvent] {
    try await withThrowingTaskGroup(of: [StoreEvent].self) { group in
        group.addTask {
            var events: [StoreEvent] = []
            for try await event in stream { events.append(event) }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw WatchTimedOut(wanted: -1)
        }
        defer { group.cancelAll() }
        return try await group.next() ?? []
    }
}
