import EnvoyAPI
import Logging
import MeshAPI
import SwiftProtobuf
import Synchronization
import Testing
import XDSCache

@testable import ControlPlane

/// The prober's loop with scripted probe results: readiness over time, state across
/// configurations, bounded concurrency, logging once, and the controller serving the result.
@Suite struct WorkloadProberTests {
    static func mesh(_ entries: [(name: String, address: String)], probe: String = "{periodSeconds: 1, failureThreshold: 1, httpGet: {port: 8080}}") -> MeshConfig {
        var yaml = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: vm, namespace: shop}
            spec:
              hosts: [vm.shop.mesh]
              resolution: STATIC
              ports: [{number: 80, name: http, protocol: HTTP}]
              workloadSelector: {labels: {app: vm}}
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadGroup
            metadata: {name: vm, namespace: shop}
            spec: {template: {labels: {app: vm}}, probe: \(probe)}
            """
        for entry in entries {
            yaml += """

                ---
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: \(entry.name), namespace: shop, annotations: {trellis.dev/workload-group: vm}}
                spec: {address: '\(entry.address)', labels: {app: vm}}
                """
        }
        let result = ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: yaml)])
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        return result.config
    }

    static func key(_ name: String) -> ResourceKey { ResourceKey(kind: .workloadEntry, namespace: "shop", name: name) }

    @Test("entries are unhealthy until they pass, then follow their probe; state survives unchanged targets")
    func readinessOverTime() async throws {
        let probes = ScriptedProbes()
        probes.set("10.0.0.1", .passed)
        probes.set("10.0.0.2", .failed("HTTP 500"))
        let reports = Mutex<[Set<ResourceKey>]>([])
        let log = RecordedLog()
        let prober = WorkloadProber(logger: log.logger) { set in reports.withLock { $0.append(set) } }
        let both = Self.mesh([("vm-1", "10.0.0.1"), ("vm-2", "10.0.0.2")])
        #expect(prober.update(both) == [Self.key("vm-1"), Self.key("vm-2")], "nothing has passed yet")

        let running = Task { await prober.run(probe: probes.run) }
        defer { running.cancel() }
        try await eventually { prober.unhealthyWorkloads == [Self.key("vm-2")] }
        try await eventually { reports.withLock { $0.last } == [Self.key("vm-2")] }
        try await eventually { probes.calls("10.0.0.1") >= 3 }
        #expect(log.lines(containing: "vm-1 is ready").count == 1, "a transition is logged once, not every probe")
        try await eventually { log.lines(containing: "vm-2 is not ready yet").count == 1 }

        probes.set("10.0.0.2", .passed)
        try await eventually { prober.unhealthyWorkloads.isEmpty }
        #expect(prober.update(both).isEmpty, "an unchanged configuration keeps every entry's state")

        let moved = Self.mesh([("vm-1", "10.0.0.1"), ("vm-2", "10.0.0.3")])
        probes.set("10.0.0.3", .failed("connection refused"))
        #expect(prober.update(moved) == [Self.key("vm-2")], "a changed target starts again")

        probes.set("10.0.0.1", .failed("HTTP 503"))
        try await eventually { prober.unhealthyWorkloads == [Self.key("vm-1"), Self.key("vm-2")] }
        try await eventually { log.lines(containing: "vm-1 is not ready: its readiness probe failed 1 in a row").count == 1 }

        #expect(prober.update(Self.mesh([("vm-2", "10.0.0.3")])) == [Self.key("vm-2")], "a removed entry is forgotten")
        running.cancel()
        await running.value
    }

    @Test("entries not addressed by IP are served healthy and logged once")
    func unprobeable() {
        let log = RecordedLog()
        let prober = WorkloadProber(logger: log.logger) { _ in }
        let config = Self.mesh([("by-name", "vm.example.com"), ("vm-1", "10.0.0.1")])
        #expect(prober.update(config) == [Self.key("vm-1")])
        #expect(prober.update(config) == [Self.key("vm-1")])
        #expect(log.lines(containing: "not probing WorkloadEntry shop/by-name").count == 1)
    }

    @Test("no more than maxInFlight probes run at once; a finished one makes room for the next")
    func boundedConcurrency() async throws {
        let gate = ProbeGate()
        let prober = WorkloadProber(maxInFlight: 8, logger: quietLogger) { _ in }
        let entries = (1...100).map { ("vm-\($0)", "10.0.\($0 / 250).\($0 % 250 + 1)") }
        _ = prober.update(Self.mesh(entries, probe: "{periodSeconds: 3600, timeoutSeconds: 1, tcpSocket: {port: 22}}"))
        let running = Task { await prober.run(probe: gate.run) }
        defer { running.cancel() }

        try await eventually { gate.started == 8 }
        gate.release(1)
        try await eventually { gate.started == 9 }
        #expect(gate.mostAtOnce == 8)
        gate.releaseAll()
        try await eventually { gate.started == 100 }
        #expect(gate.mostAtOnce == 8)
        running.cancel()
        await running.value
    }

    @Test("the controller serves probe results as EDS health, updating endpoints only")
    func controllerServesHealth() async throws {
        let probes = ScriptedProbes()
        probes.set("10.0.0.1", .passed)
        probes.set("10.0.0.2", .failed("HTTP 500"))
        let controller = MeshController(certificates: nil, logger: quietLogger)
        let prober = WorkloadProber(logger: quietLogger) { _ in controller.workloadHealthChanged() }
        controller.setWorkloadHealth(prober)
        controller.apply(Self.mesh([("vm-1", "10.0.0.1"), ("vm-2", "10.0.0.2")]))
        let subscription = try controller.subscribe(
            node: sidecarNode(ip: "10.1.0.1", workload: "client", namespace: "shop", metadata: [:]), grant: nil,
            trustClaims: false)
        let group = try #require(controller.connectedGroups.first)
        func health() throws -> [String: Envoy_Config_Core_V3_HealthStatus] {
            let resource = try #require(controller.snapshot(for: group)?.resource(.endpoint, named: "outbound|80||vm.shop.mesh"))
            let assignment = try Envoy_Config_Endpoint_V3_ClusterLoadAssignment(serializedBytes: resource.body.value)
            return Dictionary(
                uniqueKeysWithValues: assignment.endpoints.flatMap(\.lbEndpoints).map {
                    ($0.endpoint.address.socketAddress.address, $0.healthStatus)
                })
        }
        #expect(try health() == ["10.0.0.1": .unhealthy, "10.0.0.2": .unhealthy], "not probed yet")
        #expect(controller.config.unhealthyWorkloads.count == 2)

        let clusters = try #require(controller.snapshot(for: group)?.resources(.cluster))
        let running = Task { await prober.run(probe: probes.run) }
        defer { running.cancel() }
        try await eventually { try health() == ["10.0.0.1": .healthy, "10.0.0.2": .unhealthy] }
        #expect(controller.translatedLayers.endpointUpdates == 1, "a health change is an endpoint update, not a translation")
        #expect(try #require(controller.snapshot(for: group)?.resources(.cluster)).allSatisfy { clusters[$0.key] === $0.value })

        // A new configuration keeps what the probes found.
        controller.apply(Self.mesh([("vm-1", "10.0.0.1"), ("vm-2", "10.0.0.2"), ("vm-3", "10.0.0.3")]))
        #expect(try health() == ["10.0.0.1": .healthy, "10.0.0.2": .unhealthy, "10.0.0.3": .unhealthy])
        running.cancel()
        await running.value
        _ = subscription
    }
}

/// Polls `condition` until it holds, failing after `timeout`. Generous: the fuzz replay beside these tests can hold both
/// cooperative threads for tens of seconds on a 2-core machine.
func eventually(
    timeout: Duration = .seconds(60), sourceLocation: Testing.SourceLocation = #_sourceLocation, _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Probe results by host, set by the test; counts the probes each host got.
final class ScriptedProbes: Sendable {
    private let state = Mutex<(results: [String: ProbeResult], calls: [String: Int])>(([:], [:]))

    func set(_ host: String, _ result: ProbeResult) { state.withLock { $0.results[host] = result } }
    func calls(_ host: String) -> Int { state.withLock { $0.calls[host, default: 0] } }

    @Sendable func run(_ target: ProbeTarget) async -> ProbeResult {
        let host: String
        switch target.check {
        case .httpGet(let name, _, _, _, _), .tcpSocket(let name, _): host = name
        }
        return state.withLock { state in
            state.calls[host, default: 0] += 1
            return state.results[host] ?? .failed("no result scripted")
        }
    }
}

/// Probes that do not finish until the test lets them, counting how many ran at once.
final class ProbeGate: Sendable {
    private struct State {
        var started = 0
        var running = 0
        var mostAtOnce = 0
        var permits = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var started: Int { state.withLock { $0.started } }
    var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }

    func release(_ count: Int) {
        let resumed = state.withLock { state in
            state.permits += count
            let take = min(state.permits, state.waiting.count)
            state.permits -= take
            let resumed = Array(state.waiting.prefix(take))
            state.waiting.removeFirst(take)
            return resumed
        }
        for continuation in resumed { continuation.resume() }
    }

    func releaseAll() { release(1_000_000) }

    @Sendable func run(_ target: ProbeTarget) async -> ProbeResult {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state -> Bool in
                state.started += 1
                state.running += 1
                state.mostAtOnce = max(state.mostAtOnce, state.running)
                guard state.permits > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.permits -= 1
                return true
            }
            if go { continuation.resume() }
        }
        state.withLock { $0.running -= 1 }
        return .passed
    }
}

/// A logger whose messages the test can read.
final class RecordedLog: Sendable {
    private let messages = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    func lines(containing text: String) -> [String] { messages.withLock { $0.filter { $0.contains(text) } } }

    private struct Handler: LogHandler {
        let recorder: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.withLock { $0.append("\(event.message)") }
        }
    }
}
