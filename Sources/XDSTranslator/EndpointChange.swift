import MeshAPI
public import XDSCache

/// A configuration change that moves endpoints and nothing else a cluster, listener or route is
/// made of: ServiceEntry `endpoints`, WorkloadEntries or their health (`unhealthyWorkloads`,
/// which only sets `health_status` in assignments) changed, every other field of every
/// resource is the same, and each service whose endpoints changed keeps what its clusters take
/// from them (EDS resolution, the service accounts that name its servers). Such a change needs
/// new ClusterLoadAssignments for those services only: outbound layers are updated, not translated.
public struct EndpointChange: Sendable {
    /// `namespace/hostname` of each service whose endpoints changed.
    let services: Set<String>

    /// The change from `old` to `new`, when it is one.
    public init?(from old: MeshIndex, to new: MeshIndex) {
        guard old.config.hasSameResources(as: new.config, ignoringEndpoints: true) else { return nil }
        let before = Dictionary(old.registry.services.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var changed: Set<String> = []
        for service in new.registry.services {
            guard let earlier = before[service.key] else { return nil }
            guard earlier.endpoints != service.endpoints else { continue }
            guard service.resolution == .static, earlier.resolution == .static,
                Set(earlier.endpoints.compactMap(\.serviceAccount)) == Set(service.endpoints.compactMap(\.serviceAccount))
            else { return nil }
            changed.insert(service.key)
        }
        services = changed
    }
}

extension ProxyTranslator {
    /// `outbound` (the proxy's outbound layer under the configuration before `change`) with the
    /// ClusterLoadAssignments of the changed services made again from `index`; every other
    /// resource is the same object. Envoy proxies only: proxyless gRPC gets its endpoints another way.
    public static func outbound(
        _ outbound: Snapshot, updating change: EndpointChange, index: MeshIndex, for proxy: Proxy
    ) -> Snapshot? {
        guard proxy.generator == .envoy else { return nil }
        let context = TranslationContext(index: index, proxy: proxy)
        var resources = ResourceSet()
        for service in index.registry.services where change.services.contains(service.key) {
            let rule = context.destinationRule(for: service.hostname, serviceNamespace: service.namespace)?.spec
            // Only the assignments the class has: the service may be out of its scope.
            for (name, port, subset) in OutboundClusters.clusters(of: service, rule: rule)
            where outbound.resource(.endpoint, named: name) != nil {
                let assignment = ClusterLoadAssignments.assignment(
                    name: name, service: service, port: port, subsetLabels: subset?.labels ?? [:])
                resources.add(.endpoint, name, assignment)
            }
        }
        return outbound.replacing(resources.resources)
    }
}

extension MeshService {
    var key: String { namespace + "/" + hostname }
}

extension MeshConfig {
    /// Whether both hold the same resources (keys, labels, annotations and specs; not where in
    /// which file they are), optionally leaving out endpoints: ServiceEntry `endpoints`,
    /// WorkloadEntries and their health.
    func hasSameResources(as other: MeshConfig, ignoringEndpoints: Bool) -> Bool {
        func same<Spec>(_ a: [Resource<Spec>], _ b: [Resource<Spec>], _ strip: (Spec) -> Spec = { $0 }) -> Bool {
            a.count == b.count
                && zip(a, b).allSatisfy { x, y in
                    x.key == y.key && x.labels == y.labels && x.annotations == y.annotations && strip(x.spec) == strip(y.spec)
                }
        }
        func withoutEndpoints(_ spec: ServiceEntry) -> ServiceEntry {
            var spec = spec
            spec.endpoints = []
            return spec
        }
        return rootNamespace == other.rootNamespace
            && same(serviceEntries, other.serviceEntries, ignoringEndpoints ? withoutEndpoints : { $0 })
            && (ignoringEndpoints || (same(workloadEntries, other.workloadEntries) && unhealthyWorkloads == other.unhealthyWorkloads))
            && same(workloadGroups, other.workloadGroups) && same(virtualServices, other.virtualServices)
            && same(destinationRules, other.destinationRules) && same(gateways, other.gateways)
            && same(sidecars, other.sidecars) && same(peerAuthentications, other.peerAuthentications)
            && same(authorizationPolicies, other.authorizationPolicies) && same(secrets, other.secrets)
    }
}
