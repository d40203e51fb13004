import Foundation
import GRPCCore
import MeshAPI
import Testing

@testable import ControlPlane

/// Only a file that is gone deletes its resources: unreadable files and emptied or vanished
/// directories keep what is served.
@Suite struct ConfigWatcherTests {
    static func serviceEntry(_ name: String) -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: \(name)}
        spec:
          hosts: [\(name).mesh.test]
          resolution: STATIC
          ports: [{number: 80, name: http, protocol: HTTP}]
          endpoints: [{address: 127.0.0.1}]
        """
    }

    struct Setup {
        let config: TemporaryDirectory
        let data: TemporaryDirectory
        let controller = MeshController(certificates: nil, logger: quietLogger)
        let status: StatusFile
        let watcher: ConfigWatcher

        init(allowEmpty: Bool = false) throws {
            config = try TemporaryDirectory()
            data = try TemporaryDirectory()
            status = StatusFile(dataDirectory: data.path, logger: quietLogger)
            watcher = ConfigWatcher(
                directory: ConfigDirectory(path: config.path), controller: controller, status: status, logger: quietLogger,
                allowEmpty: allowEmpty)
        }

        func poll(_ progress: inout ConfigWatcher.Progress) {
            let scan: Result<DirectoryScan, ControlPlaneError>
            do {
                scan = .success(try watcher.directory.read())
            } catch {
                scan = .failure(error)
            }
            watcher.step(&progress, scan: scan)
        }

        var served: [String] { controller.config.serviceEntries.map(\.name).sorted() }

        func remove() {
            config.remove()
            data.remove()
        }
    }

    @Test("a file that becomes unreadable keeps serving its last good resources, and is reported")
    func unreadableFileKeepsLastGood() throws {
        let setup = try Setup()
        defer { setup.remove() }
        try setup.config.write("a.yaml", Self.serviceEntry("a"))
        try setup.config.write("b.yaml", Self.serviceEntry("b"))
        var progress = try setup.watcher.loadInitial(previouslyServed: 0)
        #expect(setup.served == ["a", "b"])

        // Invalid UTF-8 (a half-written or corrupted file): b keeps serving.
        try Data([0x6b, 0x69, 0xff, 0xfe, 0x0a]).write(to: URL(fileURLWithPath: setup.config.file("b.yaml")))
        setup.poll(&progress)
        #expect(setup.served == ["a", "b"])
        let unreadable = setup.status.current.unreadableFiles
        #expect(unreadable == [UnreadableFile(path: setup.config.file("b.yaml"), error: "not UTF-8 text", servingLastGood: true)])

        // An edit elsewhere still applies, with b's last good version beside it.
        try setup.config.write("c.yaml", Self.serviceEntry("c"))
        setup.poll(&progress)
        #expect(setup.served == ["a", "b", "c"])

        // Readable again: reported clear. Gone: its resources go.
        try setup.config.write("b.yaml", Self.serviceEntry("b"))
        setup.poll(&progress)
        #expect(setup.status.current.unreadableFiles.isEmpty)
        try FileManager.default.removeItem(atPath: setup.config.file("b.yaml"))
        setup.poll(&progress)
        #expect(setup.served == ["a", "c"])
    }

    @Test("an emptied or vanished config dir keeps serving and says why")
    func emptiedDirectoryKeepsServing() throws {
        let setup = try Setup()
        defer { setup.remove() }
        try setup.config.write("a.yaml", Self.serviceEntry("a"))
        var progress = try setup.watcher.loadInitial(previouslyServed: 0)

        try FileManager.default.removeItem(atPath: setup.config.file("a.yaml"))
        setup.poll(&progress)
        #expect(setup.served == ["a"])
        #expect(setup.status.current.configDirectoryProblem?.contains("--allow-empty-config") == true)

        // Every file emptied is the same: no resources at all.
        try setup.config.write("a.yaml", "")
        setup.poll(&progress)
        #expect(setup.served == ["a"])

        try FileManager.default.removeItem(atPath: setup.config.path)
        setup.poll(&progress)
        #expect(setup.served == ["a"])
        #expect(setup.status.current.configDirectoryProblem?.contains("no such directory") == true)

        // Back with config: applied, problem cleared.
        try FileManager.default.createDirectory(atPath: setup.config.path, withIntermediateDirectories: true)
        try setup.config.write("b.yaml", Self.serviceEntry("b"))
        setup.poll(&progress)
        #expect(setup.served == ["b"])
        #expect(setup.status.current.configDirectoryProblem == nil)
    }

    @Test("--allow-empty-config applies an empty dir")
    func allowEmpty() throws {
        let setup = try Setup(allowEmpty: true)
        defer { setup.remove() }
        try setup.config.write("a.yaml", Self.serviceEntry("a"))
        var progress = try setup.watcher.loadInitial(previouslyServed: 0)
        try FileManager.default.removeItem(atPath: setup.config.file("a.yaml"))
        setup.poll(&progress)
        #expect(setup.served.isEmpty)
        #expect(setup.status.current.configDirectoryProblem == nil)
    }

    @Test("an empty dir at start-up is served on a fresh data dir, held when the last run served resources")
    func emptyAtStartup() throws {
        let fresh = try Setup()
        defer { fresh.remove() }
        _ = try fresh.watcher.loadInitial(previouslyServed: 0)
        #expect(fresh.status.current.configDirectoryProblem == nil)
        _ = try fresh.controller.subscribe(
            node: sidecarNode(ip: "127.0.0.1", workload: "a", metadata: [:]), grant: nil, trustClaims: false)

        let restarted = try Setup()
        defer { restarted.remove() }
        var progress = try restarted.watcher.loadInitial(previouslyServed: 3)
        #expect(restarted.status.current.configDirectoryProblem?.contains("3 were being served") == true)
        let node = sidecarNode(ip: "127.0.0.1", workload: "a", metadata: [:])
        #expect {
            _ = try restarted.controller.subscribe(node: node, grant: nil, trustClaims: false)
        } throws: { error in
            (error as? RPCError)?.code == .unavailable
        }
        try restarted.config.write("a.yaml", Self.serviceEntry("a"))
        restarted.poll(&progress)
        #expect(restarted.served == ["a"])
        _ = try restarted.controller.subscribe(node: node, grant: nil, trustClaims: false)
    }
}

/// Bursts of edits become one apply: after the directory is quiet for `after`, or `max` after
/// the first change at the latest.
@Suite struct DebounceTests {
    typealias Observation = ConfigWatcher.Observation

    static func observation(_ contents: String) -> Observation {
        Observation(.success(DirectoryScan(files: [ConfigFile(path: "a.yaml", contents: contents)])))
    }

    @Test("a change is applied once the directory has been quiet long enough")
    func quietThenApply() {
        let start = ContinuousClock.now
        var debounce = ConfigWatcher.Debounce(after: .milliseconds(100), max: .seconds(1), seen: Self.observation("a"))
        #expect(debounce.observe(Self.observation("a"), at: start) == nil, "nothing changed")
        #expect(debounce.observe(Self.observation("b"), at: start + .milliseconds(10)) == nil, "just changed")
        #expect(debounce.observe(Self.observation("c"), at: start + .milliseconds(60)) == nil, "still changing")
        #expect(debounce.observe(Self.observation("c"), at: start + .milliseconds(120)) == nil, "quiet for 60ms only")
        #expect(debounce.observe(Self.observation("c"), at: start + .milliseconds(170)) == Self.observation("c"))
        #expect(!debounce.isPending)
        #expect(debounce.observe(Self.observation("c"), at: start + .milliseconds(400)) == nil, "applied once")
    }

    @Test("a directory that keeps changing is applied after the maximum delay")
    func maximumDelay() {
        let start = ContinuousClock.now
        var debounce = ConfigWatcher.Debounce(after: .milliseconds(100), max: .milliseconds(300), seen: Self.observation("0"))
        var applied: [Observation] = []
        for step in 1...10 {
            if let due = debounce.observe(Self.observation("\(step)"), at: start + .milliseconds(50 * step)) {
                applied.append(due)
            }
        }
        #expect(applied == [Self.observation("7")], "the first change at 50ms is due at 350ms")
    }

    @Test("where inotify works, an edit (also in a new subdirectory) is applied without waiting for a poll")
    func eventsWakeTheWatcher() async throws {
        #if os(Linux)
        let setup = try ConfigWatcherTests.Setup()
        defer { setup.remove() }
        try setup.config.write("a.yaml", ConfigWatcherTests.serviceEntry("a"))
        var watcher = setup.watcher
        // Polls so rare that only an inotify wake-up can see the edits within the test.
        watcher.pollInterval = Duration.seconds(3600)
        watcher.eventPollInterval = Duration.seconds(3600)
        let initial = try watcher.loadInitial(previouslyServed: 0)
        let watching = Task { [watcher] in await watcher.watch(from: initial) }
        defer { watching.cancel() }

        func eventually(_ expected: [String]) async throws {
            // Generous: tests running beside this one can hold the cooperative threads for seconds.
            let deadline = ContinuousClock.now + .seconds(60)
            while setup.served != expected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(setup.served == expected)
        }
        try await eventually(["a"])
        try setup.config.write("b.yaml", ConfigWatcherTests.serviceEntry("b"))
        try await eventually(["a", "b"])
        // A directory moved in whole, files and all: its arrival alone wakes the watcher.
        let staging = try TemporaryDirectory()
        defer { staging.remove() }
        try staging.write("c.yaml", ConfigWatcherTests.serviceEntry("c"))
        try FileManager.default.moveItem(atPath: staging.path, toPath: setup.config.file("team"))
        try await eventually(["a", "b", "c"])
        try setup.config.write("team/d.yaml", ConfigWatcherTests.serviceEntry("d"))
        try await eventually(["a", "b", "c", "d"])
        #endif
    }
}
