import MeshAPI
import Testing

@testable import ControlPlane

/// Which WorkloadEntries are probed, how, and how results add up to readiness.
@Suite struct ProbePlanTests {
    static func config(_ yaml: String) -> MeshConfig {
        let result = ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: yaml)])
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        return result.config
    }

    static func entry(_ name: String, address: String, annotation: String = "trellis.dev/workload-group", group: String = "vm",
        namespace: String = "shop") -> String
    {
        """

        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: \(name), namespace: \(namespace), annotations: {\(annotation): \(group)}}
        spec: {address: '\(address)'}
        """
    }

    static let groups = """
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: vm, namespace: shop}
        spec:
          template: {}
          probe: {httpGet: {port: 8080, path: ready, httpHeaders: [{name: Host, value: vm.shop}]}, successThreshold: 2}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: db, namespace: shop}
        spec:
          template: {}
          probe: {tcpSocket: {host: 10.9.9.9, port: 5432}, periodSeconds: 0, timeoutSeconds: 5, failureThreshold: 1}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: plain, namespace: shop}
        spec: {template: {}}
        """

    static func key(_ name: String, namespace: String = "shop") -> ResourceKey {
        ResourceKey(kind: .workloadEntry, namespace: namespace, name: name)
    }

    @Test("entries naming a group of their namespace that has a probe are probed at their address")
    func selection() {
        let plan = ProbePlan(Self.config(
            Self.groups + Self.entry("vm-1", address: "10.0.0.1")
                + Self.entry("vm-2", address: "10.0.0.2", annotation: "istio.io/autoRegistrationGroup")
                + Self.entry("db-1", address: "10.0.0.3", group: "db")
                + Self.entry("other-ns", address: "10.0.0.4", namespace: "elsewhere")
                + Self.entry("no-probe", address: "10.0.0.5", group: "plain")
                + Self.entry("no-group", address: "10.0.0.6", group: "missing")
                + Self.entry("by-name", address: "vm-7.example.com")))
        #expect(Set(plan.targets.keys) == [Self.key("vm-1"), Self.key("vm-2"), Self.key("db-1")])
        #expect(plan.unprobeable == [Self.key("by-name"): "vm-7.example.com"])

        let vm1 = plan.targets[Self.key("vm-1")]
        #expect(
            vm1?.check
                == .httpGet(host: "10.0.0.1", port: 8080, path: "/ready", https: false, headers: [.init(name: "Host", value: "vm.shop")]))
        #expect(vm1?.timing == ProbeTiming(ReadinessProbe(successThreshold: 2)))
        #expect(plan.targets[Self.key("db-1")]?.check == .tcpSocket(host: "10.9.9.9", port: 5432), "the probe's host wins")
    }

    @Test("absent or 0 timing fields take Kubernetes' defaults")
    func timingDefaults() {
        let defaults = ProbeTiming(ReadinessProbe(periodSeconds: 0))
        #expect(defaults.initialDelaySeconds == 0)
        #expect(defaults.periodSeconds == 10)
        #expect(defaults.timeoutSeconds == 1)
        #expect(defaults.successThreshold == 1)
        #expect(defaults.failureThreshold == 3)
        let set = ProbeTiming(
            ReadinessProbe(initialDelaySeconds: 4, timeoutSeconds: 2, periodSeconds: 1, successThreshold: 5, failureThreshold: 6))
        #expect([set.initialDelaySeconds, set.timeoutSeconds, set.periodSeconds, set.successThreshold, set.failureThreshold] == [4, 2, 1, 5, 6])
    }

    @Test("not ready until successThreshold passes in a row; unready after failureThreshold failures in a row")
    func thresholds() {
        let timing = ProbeTiming(ReadinessProbe(successThreshold: 2, failureThreshold: 3))
        var state = ProbeState()
        let failed = ProbeResult.failed("HTTP 500")
        #expect(state.record(.passed, timing) == nil)
        #expect(state.record(failed, timing) == nil, "a failure resets the passes")
        #expect(state.record(.passed, timing) == nil)
        #expect(!state.isReady)
        #expect(state.record(.passed, timing) == .becameReady)
        #expect(state.record(.passed, timing) == nil)
        #expect(state.record(failed, timing) == nil)
        #expect(state.record(failed, timing) == nil)
        #expect(state.record(.passed, timing) == nil, "a pass resets the failures")
        #expect(state.record(failed, timing) == nil)
        #expect(state.record(failed, timing) == nil)
        #expect(state.isReady)
        #expect(state.record(failed, timing) == .becameUnready(failures: 3))
        #expect(state.record(failed, timing) == nil, "reported once")
        #expect(!state.isReady)
    }

    @Test("a workload that never passes is reported once after failureThreshold failures")
    func neverReady() {
        let timing = ProbeTiming(ReadinessProbe(failureThreshold: 2))
        var state = ProbeState()
        #expect(state.record(.failed("refused"), timing) == nil)
        #expect(state.record(.failed("refused"), timing) == .stillPending(failures: 2))
        #expect(state.record(.failed("refused"), timing) == nil)
        #expect(state.readiness == .pending)
    }
}
