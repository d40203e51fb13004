import Synchronization
import XDSCache
import XDSTranslator

/// The layers proxies' snapshots are made of, for one configuration: the outbound layer of
/// each proxy class and the inbound layer of each workload, each translated on first need and
/// then shared (resources, bytes and dictionaries) by every group that needs it. A new
/// configuration (a new generation) starts empty.
final class TranslationLayers: Sendable {
    /// The inbound layer depends on the whole proxy but its name.
    private struct WorkloadKey: Hashable {
        var proxy: Proxy
        var trustDomain: String?

        init(_ proxy: Proxy, trustDomain: String?) {
            var proxy = proxy
            proxy.workloadName = ""
            self.proxy = proxy
            self.trustDomain = trustDomain
        }
    }

    private struct State {
        var generation = -1
        var outbound: [ProxyClass: Snapshot] = [:]
        var inbound: [WorkloadKey: Snapshot] = [:]
        /// The workload each group was last built as.
        var workloadOf: [Proxy: WorkloadKey] = [:]
    }

    private let state = Mutex(State())

    /// The proxy's snapshot under `index` (configuration `generation`): its workload's inbound
    /// layer, its class's outbound layer, its identity's secrets.
    func snapshot(_ index: MeshIndex, generation: Int, for proxy: Proxy, credentials: ProxyCredentials?) -> Snapshot {
        let trustDomain = credentials?.trustDomain
        let proxyClass = ProxyClass(of: proxy, in: index, trustDomain: trustDomain)
        let workload = WorkloadKey(proxy, trustDomain: trustDomain)
        let (outbound, inbound) = state.withLock { state -> (Snapshot?, Snapshot?) in
            if state.generation != generation {
                guard state.generation < generation else { return (nil, nil) }  // an older config: no caching
                state = State(generation: generation, workloadOf: state.workloadOf)
            }
            state.workloadOf[proxy] = workload
            return (state.outbound[proxyClass], state.inbound[workload])
        }
        let outboundLayer = outbound ?? ProxyTranslator.outbound(index, for: proxy, trustDomain: trustDomain)
        let inboundLayer = inbound ?? ProxyTranslator.inbound(index, for: proxy, trustDomain: trustDomain)
        state.withLock { state in
            guard state.generation == generation else { return }
            if outbound == nil { state.outbound[proxyClass] = outboundLayer }
            if inbound == nil { state.inbound[workload] = inboundLayer }
        }
        return ProxyTranslator.compose(inbound: inboundLayer, outbound: outboundLayer, credentials: credentials)
    }

    /// Drops the inbound layers of workloads no connected group has (proxies come and go
    /// between configuration changes; classes are few and stay until the next one).
    func prune(keeping groups: Set<Proxy>) {
        state.withLock { state in
            state.workloadOf = state.workloadOf.filter { groups.contains($0.key) }
            let keep = Set(state.workloadOf.values)
            state.inbound = state.inbound.filter { keep.contains($0.key) }
        }
    }

    /// How many classes and workloads have been translated for the current configuration.
    var counts: (classes: Int, workloads: Int) {
        state.withLock { ($0.outbound.count, $0.inbound.count) }
    }
}
