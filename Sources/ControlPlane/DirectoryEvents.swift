#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Wakes the config watcher as soon as something changes under the config dir (Linux inotify),
/// so that an edit is seen at once instead of at the next poll, and an idle directory of
/// thousands of files costs nothing between polls. Polling stays the source of truth (it also
/// catches what inotify cannot see, such as network filesystems); without inotify the watcher
/// just polls.
final class DirectoryEvents: Sendable {
    private let descriptor: Int32
    private let wakeup: Wakeup
    private let stopped = Atomic<Bool>(false)
    /// Directories watched, by path.
    private let watched = Mutex<Set<String>>([])

    /// Nil where inotify is unavailable. `wakeup` is signalled on every change (others may
    /// signal it too: the store does).
    init?(wakeup: Wakeup = Wakeup()) {
        self.wakeup = wakeup
        #if os(Linux)
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        let thread = Thread { [self] in readEvents() }
        thread.name = "trellis-config-events"
        thread.start()
        #else
        return nil
        #endif
    }

    deinit {
        close(descriptor)
    }

    /// Watches `directory` and every directory below it not watched yet; true when it added
    /// one, which may have had files written into it before it was watched (scan it now).
    func watch(tree directory: String) -> Bool {
        var added = false
        #if os(Linux)
        var pending = [directory]
        while let path = pending.popLast() {
            let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB)
            if watched.withLock({ !$0.contains(path) }), inotify_add_watch(descriptor, path, mask) >= 0 {
                watched.withLock { _ = $0.insert(path) }
                added = true
            }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []  // a poll reports unreadable dirs
            for child in children {
                var isDirectory: ObjCBool = false
                let full = path + "/" + child
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                    pending.append(full)
                }
            }
        }
        #endif
        return added
    }

    /// Returns after `timeout`, or earlier when something changed since the last call; true
    /// when woken by a change.
    func wait(atMost timeout: Duration) async -> Bool {
        await wakeup.wait(atMost: timeout)
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func readEvents() {
        #if os(Linux)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopped.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 500) > 0 else { continue }
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { continue }
            // Which file does not matter: the poll that follows compares the whole directory.
            // A watch the kernel dropped (its directory was removed, perhaps to be re-created)
            // must be added again by the next walk.
            var offset = 0
            while offset + 16 <= count {
                let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                let nameLength = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) }
                if mask & UInt32(IN_IGNORED) != 0 { watched.withLock { $0.removeAll() } }
                offset += 16 + Int(nameLength)
            }
            wakeup.signal()
        }
        #endif
    }
}

