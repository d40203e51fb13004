import Logging
import MeshAPI
import Synchronization

/// Runs WorkloadGroup readiness probes against the WorkloadEntries registered into the groups
/// (``ProbePlan``). Istio's agent runs them on the VM; Trellis has no agent, so the control
/// plane probes the workload's address itself. An entry is unhealthy until its probe has passed
/// `successThreshold` times, and again after `failureThreshold` consecutive failures.
///
/// At most `maxInFlight` probes run at once, each bounded by its timeout: a thousand dead VMs
/// make probes run late, never the server wait. `run()` reports the unhealthy set through
/// `onChange` whenever probe results change it (several changes close together are one
/// report); each readiness change is logged once, never each probe.
final class WorkloadProber: WorkloadHealthSource {
    private struct Probed {
        var target: ProbeTarget
        /// Tells this target's results from those of a target it replaced, still in flight.
        var id: Int
        var state = ProbeState()
        var due: ContinuousClock.Instant
        var running = false
    }

    /// One probe run handed to a task.
    private struct Job: Sendable {
        var key: ResourceKey
        var id: Int
        var target: ProbeTarget
        var started: ContinuousClock.Instant
    }

    private struct State {
        var probed: [ResourceKey: Probed] = [:]
        var nextID = 0
        var inFlight = 0
        /// Entries that cannot be probed and were logged, so that each is logged once.
        var loggedUnprobeable: Set<ResourceKey> = []
        /// Whether probe results changed the unhealthy set since `run()` last reported it.
        var changed = false

        var unhealthy: Set<ResourceKey> {
            Set(probed.lazy.filter { !$0.value.state.isReady }.map { $0.key })
        }
    }

    private let state = Mutex(State())
    private let wakeup = Wakeup()
    private let clock = ContinuousClock()
    private let maxInFlight: Int
    private let logger: Logger
    private let onChange: @Sendable (Set<ResourceKey>) -> Void

    init(maxInFlight: Int = 32, logger: Logger, onChange: @escaping @Sendable (Set<ResourceKey>) -> Void) {
        self.maxInFlight = max(maxInFlight, 1)
        self.logger = logger
        self.onChange = onChange
    }

    /// Probes the entries `config` has probes for from now on. Entries whose target (address,
    /// probe, timing) is unchanged keep their state; new or changed ones start unhealthy and
    /// are probed after their initial delay; removed ones are forgotten.
    func update(_ config: MeshConfig) -> Set<ResourceKey> {
        let plan = ProbePlan(config)
        let now = clock.now
        let (unhealthy, unprobeable) = state.withLock { state in
            var probed: [ResourceKey: Probed] = [:]
            for (key, target) in plan.targets {
                if let current = state.probed[key], current.target == target {
                    probed[key] = current
                } else {
                    state.nextID += 1
                    probed[key] = Probed(
                        target: target, id: state.nextID, due: now + .seconds(target.timing.initialDelaySeconds))
                }
            }
            state.probed = probed
            let new = plan.unprobeable.filter { !state.loggedUnprobeable.contains($0.key) }
            state.loggedUnprobeable = Set(plan.unprobeable.keys)
            return (state.unhealthy, new)
        }
        for (key, address) in unprobeable.sorted(by: { $0.key < $1.key }) {
            logger.info(
                """
                not probing WorkloadEntry \(key.namespace)/\(key.name): its address '\(address)' is not an IP \
                address; it is served as healthy
                """)
        }
        wakeup.signal()
        return unhealthy
    }

    var unhealthyWorkloads: Set<ResourceKey> { state.withLock { $0.unhealthy } }

    /// Probes over the network until cancelled.
    func run() async {
        let check = ProbeCheck()
        await run { target in await check.run(target.check, timeoutSeconds: target.timing.timeoutSeconds) }
        do {
            try await check.shutdown()
        } catch {
            logger.warning("cannot shut the readiness probes' HTTP client down: \(error)")
        }
    }

    /// Runs due probes with `probe` until cancelled; returns once the probes in flight are done.
    func run(probe: @escaping @Sendable (ProbeTarget) async -> ProbeResult) async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let (jobs, report, wait) = next()
                if let report { onChange(report) }
                for job in jobs {
                    group.addTask {
                        let result = await probe(job.target)
                        self.finish(job, result)
                    }
                }
                await withTaskCancellationHandler {
                    _ = await wakeup.wait(atMost: wait)
                } onCancel: {
                    wakeup.signal()
                }
            }
        }
    }

    /// Takes the probes that are due (earliest first, as many as there are free slots), the
    /// unhealthy set if it is to be reported, and how long to wait for the next due probe.
    private func next() -> (jobs: [Job], report: Set<ResourceKey>?, wait: Duration) {
        let now = clock.now
        let idle = Duration.seconds(60)  // nothing due: only an update or a finished probe wakes the loop
        return state.withLock { state in
            var jobs: [Job] = []
            let due = state.probed.filter { !$0.value.running && $0.value.due <= now }
            for (key, entry) in due.sorted(by: { $0.value.due < $1.value.due }).prefix(max(maxInFlight - state.inFlight, 0)) {
                state.probed[key]?.running = true
                jobs.append(Job(key: key, id: entry.id, target: entry.target, started: now))
            }
            state.inFlight += jobs.count
            let report = state.changed ? state.unhealthy : nil
            state.changed = false
            guard state.inFlight < maxInFlight else { return (jobs, report, idle) }  // a finished probe wakes it
            let nextDue = state.probed.values.lazy.filter { !$0.running }.map(\.due).min()
            return (jobs, report, nextDue.map { max($0 - now, .zero) } ?? idle)
        }
    }

    private func finish(_ job: Job, _ result: ProbeResult) {
        let event = state.withLock { state -> ProbeState.Event? in
            state.inFlight -= 1
            guard var entry = state.probed[job.key], entry.id == job.id else { return nil }  // replaced or removed
            entry.running = false
            entry.due = job.started + .seconds(entry.target.timing.periodSeconds)
            let wasReady = entry.state.isReady
            let event = entry.state.record(result, entry.target.timing)
            if entry.state.isReady != wasReady { state.changed = true }
            state.probed[job.key] = entry
            return event
        }
        if let event { log(event, of: job.key, result) }
        wakeup.signal()
    }

    private func log(_ event: ProbeState.Event, of key: ResourceKey, _ result: ProbeResult) {
        let entry = "WorkloadEntry \(key.namespace)/\(key.name)"
        let reason = if case .failed(let reason) = result { reason } else { "" }
        let message =
            switch event {
            case .becameReady:
                "\(entry) is ready: its readiness probe passed; its endpoints are HEALTHY"
            case .becameUnready(let failures):
                "\(entry) is not ready: its readiness probe failed \(failures) in a row (last: \(reason)); "
                    + "its endpoints are UNHEALTHY"
            case .stillPending(let failures):
                "\(entry) is not ready yet: its readiness probe failed \(failures) in a row (last: \(reason)); "
                    + "its endpoints stay UNHEALTHY until it passes"
            }
        logger.info("\(message)")
    }
}
