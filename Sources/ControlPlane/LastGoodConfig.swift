public import MeshAPI

extension MeshConfig {
    /// This config, except that every rejected resource keeps the version `previous` had:
    /// a bad edit to one resource never takes away what proxies were already using.
    public func keepingLastGood(of rejected: Set<ResourceKey>, from previous: MeshConfig) -> MeshConfig {
        guard !rejected.isEmpty else { return self }
        var result = self
        func keep<Spec>(_ path: WritableKeyPath<MeshConfig, [Resource<Spec>]>) {
            let kept = previous[keyPath: path].filter { rejected.contains($0.key) }
            let fresh = result[keyPath: path].filter { !rejected.contains($0.key) }
            result[keyPath: path] = (fresh + kept).sorted { $0.key < $1.key }
        }
        keep(\.serviceEntries)
        keep(\.workloadEntries)
        keep(\.workloadGroups)
        keep(\.virtualServices)
        keep(\.destinationRules)
        keep(\.gateways)
        keep(\.sidecars)
        keep(\.peerAuthentications)
        keep(\.authorizationPolicies)
        keep(\.secrets)
        return result
    }
}
