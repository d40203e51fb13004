import MeshAPI

/// Which mTLS mode a workload's inbound port runs: Istio's PeerAuthentication precedence,
/// workload selector over namespace over mesh (root namespace), port-level over workload-level,
/// UNSET inheriting from the next level up, PERMISSIVE when nothing says otherwise.
enum PeerAuthentications {
    typealias Mode = PeerAuthentication.MutualTLS.Mode

    static func mode(for proxy: Proxy, port: UInt32, in config: MeshConfig, rootNamespace: String) -> Mode {
        let policies = config.peerAuthentications
        let workload = policies.first {
            $0.namespace == proxy.namespace && $0.spec.selector.map { $0.matches(proxy.labels) && !$0.labels.isEmpty } == true
        }
        let namespace = policies.first { $0.namespace == proxy.namespace && $0.spec.selector == nil }
        let mesh = policies.first { $0.namespace == rootNamespace && $0.spec.selector == nil }
        let levels: [Mode?] = [
            workload?.spec.portLevelMtls[port], workload?.spec.mtls?.mode,
            namespace?.spec.mtls?.mode, mesh?.spec.mtls?.mode,
        ]
        return levels.compactMap { $0 }.first { $0 != .unset } ?? .permissive
    }
}
