import Dispatch
import MeshAPI
import Synchronization
import XDSCache
import XDSTranslator

/// The layers proxies' snapshots are made of, for one configuration: the outbound layer of
/// each proxy class and the inbound layer of each workload, each translated on first need and
/// then shared (resources, bytes and dictionaries) by every group that needs it. A new
/// configuration (a new generation) translates classes again; a workload's inbound layer
/// carries over when what it depends on did not change (a VirtualService or DestinationRule
/// edit, or an endpoint elsewhere, leaves every inbound layer as it was).
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

    private struct Inbound {
        var inputs: InboundInputs
        var layer: Snapshot
    }

    private struct State {
        var generation = -1
        var index: MeshIndex?
        var outbound: [ProxyClass: Snapshot] = [:]
        /// Set when the configuration moved only endpoints: then each class's previous outbound
        /// layer is updated (new ClusterLoadAssignments) instead of translated again.
        var endpointChange: EndpointChange?
        var earlierOutbound: [ProxyClass: Snapshot] = [:]
        /// Classes of this configuration whose layer was an endpoint update, not a translation.
        var endpointUpdates = 0
        var inbound: [WorkloadKey: Inbound] = [:]
        /// The previous configuration's inbound layers, reused where their inputs are unchanged.
        var earlierInbound: [WorkloadKey: Inbound] = [:]
        /// The workload each group was last built as.
        var workloadOf: [Proxy: WorkloadKey] = [:]
    }

    private let state = Mutex(State())
    /// Equal tables of different classes, workloads and configurations are one object.
    private let tables = TablePool()

    /// The proxy's snapshot under `index` (configuration `generation`): its workload's inbound
    /// layer, its class's outbound layer, its identity's secrets.
    func snapshot(_ index: MeshIndex, generation: Int, for proxy: Proxy, credentials: ProxyCredentials?) -> Snapshot {
        let (inbound, outbound) = layers(index, generation: generation, for: proxy, trustDomain: credentials?.trustDomain)
        return ProxyTranslator.compose(inbound: inbound, outbound: outbound, credentials: credentials)
    }

    /// Translates the layers of every one of `proxies` (with their trust domains) on all cores,
    /// so that composing their snapshots afterwards finds them cached: first one proxy of each
    /// class (classes are independent), then every workload's inbound layer.
    func prepare(_ index: MeshIndex, generation: Int, for proxies: [(proxy: Proxy, trustDomain: String?)]) {
        var oneOfEachClass: [ProxyClass: (proxy: Proxy, trustDomain: String?)] = [:]
        for entry in proxies {
            let proxyClass = ProxyClass(of: entry.proxy, in: index, trustDomain: entry.trustDomain)
            if oneOfEachClass[proxyClass] == nil { oneOfEachClass[proxyClass] = entry }
        }
        for batch in [Array(oneOfEachClass.values), proxies] {
            DispatchQueue.concurrentPerform(iterations: batch.count) { position in
                _ = layers(index, generation: generation, for: batch[position].proxy, trustDomain: batch[position].trustDomain)
            }
        }
    }

    private func layers(_ index: MeshIndex, generation: Int, for proxy: Proxy, trustDomain: String?) -> (inbound: Snapshot, outbound: Snapshot) {
        let proxyClass = ProxyClass(of: proxy, in: index, trustDomain: trustDomain)
        let workload = WorkloadKey(proxy, trustDomain: trustDomain)
        let (outbound, inbound, earlier) = state.withLock { state -> (Snapshot?, Inbound?, Inbound?) in
            if state.generation != generation {
                guard state.generation < generation else { return (nil, nil, nil) }  // an older config: no caching
                let keepsInbound = state.index?.config.hasSameInboundPolicies(as: index.config) == true
                let endpointChange = state.index.flatMap { EndpointChange(from: $0, to: index) }
                state = State(
                    generation: generation, index: index, endpointChange: endpointChange,
                    earlierOutbound: endpointChange == nil ? [:] : state.outbound,
                    earlierInbound: keepsInbound ? state.inbound.merging(state.earlierInbound) { current, _ in current } : [:],
                    workloadOf: state.workloadOf)
            }
            state.workloadOf[proxy] = workload
            return (state.outbound[proxyClass], state.inbound[workload], state.earlierInbound[workload])
        }
        let outboundLayer = outbound ?? tables.intern(translateOutbound(index, generation: generation, for: proxy, of: proxyClass, trustDomain: trustDomain), generation: generation)
        let inboundLayer: Inbound
        if let inbound {
            inboundLayer = inbound
        } else {
            let inputs = ProxyTranslator.inboundInputs(index, for: proxy)
            inboundLayer =
                earlier.flatMap { $0.inputs == inputs ? $0 : nil }
                ?? Inbound(
                    inputs: inputs,
                    layer: tables.intern(
                        ProxyTranslator.inbound(index, for: proxy, trustDomain: trustDomain), generation: generation))
        }
        state.withLock { state in
            guard state.generation == generation else { return }
            if outbound == nil {
                state.outbound[proxyClass] = outboundLayer
                state.earlierOutbound[proxyClass] = nil
            }
            if inbound == nil {
                state.inbound[workload] = inboundLayer
                state.earlierInbound[workload] = nil
            }
        }
        return (inboundLayer.layer, outboundLayer)
    }

    /// The class's outbound layer: its previous one with new endpoints after a change that moved
    /// only endpoints, else a full translation.
    private func translateOutbound(
        _ index: MeshIndex, generation: Int, for proxy: Proxy, of proxyClass: ProxyClass, trustDomain: String?
    ) -> Snapshot {
        let (change, earlier) = state.withLock { state in
            state.generation == generation ? (state.endpointChange, state.earlierOutbound[proxyClass]) : (nil, nil)
        }
        if let change, let earlier, let updated = ProxyTranslator.outbound(earlier, updating: change, index: index, for: proxy) {
            state.withLock { if $0.generation == generation { $0.endpointUpdates += 1 } }
            return updated
        }
        return ProxyTranslator.outbound(index, for: proxy, trustDomain: trustDomain)
    }

    /// Drops the inbound layers of workloads no connected group has (proxies come and go
    /// between configuration changes; classes are few and stay until the next one).
    func prune(keeping groups: Set<Proxy>) {
        state.withLock { state in
            state.workloadOf = state.workloadOf.filter { groups.contains($0.key) }
            let keep = Set(state.workloadOf.values)
            state.inbound = state.inbound.filter { keep.contains($0.key) }
            state.earlierInbound = state.earlierInbound.filter { keep.contains($0.key) }
        }
    }

    /// How many classes and workloads have been translated for the current configuration.
    var counts: (classes: Int, workloads: Int, endpointUpdates: Int) {
        state.withLock { ($0.outbound.count, $0.inbound.count, $0.endpointUpdates) }
    }
}
