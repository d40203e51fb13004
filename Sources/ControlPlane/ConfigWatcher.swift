import ConfigStore
import Logging
import MeshAPI
import Synchronization

/// Loads the config dir, validates it, and applies what is valid; then polls for edits (woken
/// at once by inotify where there is one, so an edit need not wait for the poll). Nothing
/// served disappears by accident:
/// - an invalid document is reported (log and `DATA_DIR/config-status.json`) and skipped; the
///   resource it would have replaced keeps serving its last good version;
/// - a file that exists but cannot be read (permissions, I/O error, not UTF-8) keeps serving
///   what it held at its last good read; only a file that is gone takes its resources with it;
/// - a directory that vanishes, cannot be listed, or suddenly holds no resources at all (an
///   unmounted volume, a wrong path) is not applied as "delete everything" unless
///   `allowEmpty`; the server keeps serving and says why.
/// Each problem is logged once when it appears and once when it clears.
struct ConfigWatcher: Sendable {
    let directory: ConfigDirectory
    let controller: MeshController
    let status: StatusFile
    let logger: Logger
    /// `--allow-empty-config`: an empty directory is applied like any other edit.
    var allowEmpty = false
    var pollInterval: Duration = .milliseconds(250)
    /// With inotify waking the watcher on every change, polling is only the safety net.
    var eventPollInterval: Duration = .seconds(2)
    /// `--debounce-after`: how long the directory must be quiet before a change is applied.
    var debounceAfter: Duration = .milliseconds(100)
    /// `--debounce-max`: the longest a burst of changes can delay the first of them.
    var debounceMax: Duration = .seconds(1)
    /// Files as last parsed: an edit re-parses only the files it changed.
    let parseCache = ConfigParseCache()
    /// Cuts a wait short: inotify and the store signal it.
    var wakeup = Wakeup()
    /// The resources applied through the API, loaded with the directory's (nil: none).
    var stored: StoredConfig? = nil
    /// The directory's files as last applied, for the API to validate requests against.
    let appliedDirectoryFiles = AppliedFiles()
    /// Diagnostics already logged: each is logged once while it lasts, not on every apply.
    private let loggedDiagnostics = LoggedOnce()

    /// What the watcher remembers between polls.
    struct Progress: Sendable {
        /// The files last applied (with last good contents standing in for unreadable ones).
        var applied: [ConfigFile]?
        /// Each file's contents at its last good read.
        var lastGood: [String: ConfigFile] = [:]
        /// Unreadable files as last reported: path → reason.
        var unreadable: [String: String] = [:]
        /// Why the directory is not being applied, as last reported.
        var problem: String?
        /// Resources the data dir's last run served, until the first apply of this run.
        var previouslyServed = 0
        /// The last scan, so that unchanged files are not read again.
        var lastScan: DirectoryScan?
        /// The store revision last applied.
        var storeRevision: StoreRevision = -1
    }

    /// The first load. Throws when the directory cannot be read at all. A directory without
    /// resources on a data dir whose last run served some (`previouslyServed`) is held, not
    /// served: streams are refused until it has config again, so reconnecting proxies keep
    /// what they have instead of receiving an empty mesh.
    func loadInitial(previouslyServed: Int) throws(ControlPlaneError) -> Progress {
        var progress = Progress(previouslyServed: previouslyServed)
        let scan = try directory.read()
        step(&progress, scan: .success(scan))
        return progress
    }

    /// Polls until cancelled. A change is applied once the directory has been quiet for
    /// `debounceAfter`, or `debounceMax` after the first change of a burst, so that an editor
    /// saving several files (or a `git pull`) is one push, not many.
    func watch(from initial: Progress) async {
        var progress = initial
        var debounce = Debounce(
            after: debounceAfter, max: debounceMax,
            seen: progress.lastScan.map { Observation(.success($0), storeRevision: progress.storeRevision) })
        let clock = ContinuousClock()
        let events = DirectoryEvents(wakeup: wakeup)
        defer { events?.stop() }
        var changed = true
        while !Task.isCancelled {
            let interval = debounce.isPending ? min(pollInterval, debounceAfter) : pollInterval
            if let events, !debounce.isPending {
                // A change may have added directories (an idle tree is not walked again); one
                // watched only now is scanned at once, not waited on.
                if changed && events.watch(tree: directory.path) {
                    changed = true
                } else {
                    changed = await events.wait(atMost: max(interval, eventPollInterval))
                }
            } else {
                _ = await wakeup.wait(atMost: interval)
            }
            let scan: Result<DirectoryScan, ControlPlaneError>
            do {
                scan = .success(try directory.read(previous: progress.lastScan))
            } catch {
                scan = .failure(error)
            }
            let storeRevision = stored?.revision ?? 0
            if let due = debounce.observe(Observation(scan, storeRevision: storeRevision), at: clock.now) {
                step(&progress, scan: due.scan)
            }
        }
    }

    /// What one poll saw, comparable with the one before.
    struct Observation: Equatable {
        var scan: Result<DirectoryScan, ControlPlaneError>
        var storeRevision: StoreRevision

        init(_ scan: Result<DirectoryScan, ControlPlaneError>, storeRevision: StoreRevision = 0) {
            self.scan = scan
            self.storeRevision = storeRevision
        }

        static func == (lhs: Self, rhs: Self) -> Bool {
            guard lhs.storeRevision == rhs.storeRevision else { return false }
            return switch (lhs.scan, rhs.scan) {
            case (.success(let a), .success(let b)): a.files == b.files && a.unreadable == b.unreadable
            case (.failure(let a), .failure(let b)): a.description == b.description
            default: false
            }
        }
    }

    /// Coalesces bursts of changes: `observe` returns what to apply once a change is due.
    struct Debounce {
        let after: Duration
        let max: Duration
        private var seen: Observation?
        private var firstChange: ContinuousClock.Instant?
        private var lastChange: ContinuousClock.Instant?

        /// `seen`: what the directory held when watching began.
        init(after: Duration, max: Duration, seen: Observation?) {
            self.after = after
            self.max = max
            self.seen = seen
        }

        var isPending: Bool { firstChange != nil }

        mutating func observe(_ observation: Observation, at now: ContinuousClock.Instant) -> Observation? {
            if observation != seen {
                seen = observation
                firstChange = firstChange ?? now
                lastChange = now
            }
            guard let firstChange, let lastChange else { return nil }
            guard lastChange.duration(to: now) >= after || firstChange.duration(to: now) >= max else { return nil }
            self.firstChange = nil
            self.lastChange = nil
            return observation
        }
    }

    /// One poll: decides what to apply from what the directory holds now.
    func step(_ progress: inout Progress, scan: Result<DirectoryScan, ControlPlaneError>) {
        let found: DirectoryScan
        switch scan {
        case .failure(let error):
            report(&progress, problem: "\(error); serving the last good configuration")
            return
        case .success(let scan):
            found = scan
            progress.lastScan = scan
        }
        var files = found.files
        var unreadable: [String: String] = [:]
        var unreadableFiles: [UnreadableFile] = []
        for problem in found.unreadable {
            unreadable[problem.path] = problem.reason
            let kept = progress.lastGood[problem.path]
            if let kept { files.append(kept) }
            unreadableFiles.append(UnreadableFile(path: problem.path, error: problem.reason, servingLastGood: kept != nil))
        }
        files.sort { $0.path < $1.path }
        logUnreadableChanges(from: progress.unreadable, to: unreadableFiles)
        progress.unreadable = unreadable
        status.update { $0.unreadableFiles = unreadableFiles }
        let directoryFiles = files
        appliedDirectoryFiles.set(directoryFiles)
        let (storeRevision, storedFiles, storedKeys) = stored?.current ?? (0, [], [])
        files += storedFiles
        progress.storeRevision = storeRevision

        guard files != progress.applied else {
            report(&progress, problem: nil)
            return
        }
        let previous = controller.config
        let result = ConfigLoader.load(files, cache: parseCache)
        let served = max(previous.resourceCount, progress.previouslyServed)
        // Only the directory can vanish: resources applied through the API do not count.
        let fromDirectory = result.config.keys.subtracting(storedKeys).count
        if !allowEmpty && found.unreadable.isEmpty && fromDirectory == 0 && result.rejected.isEmpty && served > storedKeys.count {
            let problem =
                "config dir '\(directory.path)' holds no resources, but \(served) were being served; keeping them "
                + "(an unmounted volume or a wrong path?). Pass --allow-empty-config to serve an empty mesh"
            if progress.applied == nil { controller.hold(reason: problem) }
            report(&progress, problem: problem)
            return
        }
        report(&progress, problem: nil)
        apply(result, files: files, previous: previous)
        progress.applied = files
        progress.previouslyServed = 0
        progress.lastGood = Dictionary(directoryFiles.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
    }

    private func apply(_ result: LoadResult, files: [ConfigFile], previous: MeshConfig) {
        let current = Set(result.diagnostics.map(\.description))
        let new = loggedDiagnostics.new(among: current)
        for diagnostic in result.diagnostics where new.contains(diagnostic.description) {
            switch diagnostic.severity {
            case .error: logger.error("rejected: \(diagnostic)")
            case .warning: logger.warning("\(diagnostic)")
            }
        }
        let config = result.config.keepingLastGood(of: result.rejected, from: previous)
        controller.apply(config)
        status.update { $0.recordLoad(files: files.count, served: config, result: result, previous: previous) }
        logger.info(
            "configuration applied",
            metadata: [
                "files": "\(files.count)", "resources": "\(config.resourceCount)",
                "rejected": "\(result.rejected.count)",
            ])
    }

    /// Logs a directory problem when it appears, changes or clears, and publishes it.
    private func report(_ progress: inout Progress, problem: String?) {
        guard problem != progress.problem else { return }
        if let problem {
            logger.error("\(problem)")
        } else if progress.problem != nil {
            logger.notice("config dir '\(directory.path)' is readable and has resources again")
        }
        progress.problem = problem
        status.update { $0.configDirectoryProblem = problem }
    }

    private func logUnreadableChanges(from before: [String: String], to now: [UnreadableFile]) {
        for file in now where before[file.path] != file.error {
            let kept = file.servingLastGood ? "serving its last good version" : "it has no earlier version to serve"
            logger.error("cannot read \(file.path): \(file.error); \(kept); retrying on every poll")
        }
        let nowPaths = Set(now.map(\.path))
        for path in before.keys.sorted() where !nowPaths.contains(path) {
            logger.notice("\(path) is readable again (or gone)")
        }
    }
}

extension MeshConfig {
    var resourceCount: Int {
        serviceEntries.count + workloadEntries.count + workloadGroups.count + virtualServices.count
            + destinationRules.count + gateways.count + sidecars.count + peerAuthentications.count
            + authorizationPolicies.count + secrets.count
    }
}

/// The config dir's files as the watcher last applied them, read by the admin API.
final class AppliedFiles: Sendable {
    private let files = Mutex<[ConfigFile]>([])

    var current: [ConfigFile] { files.withLock { $0 } }

    func set(_ new: [ConfigFile]) { files.withLock { $0 = new } }
}

/// Remembers which messages are logged: those of the last round that were not in the one
/// before are new; one that goes away and comes back is new again.
final class LoggedOnce: Sendable {
    private let logged = Mutex<Set<String>>([])

    func new(among current: Set<String>) -> Set<String> {
        logged.withLock { logged in
            defer { logged = current }
            return current.subtracting(logged)
        }
    }
}
