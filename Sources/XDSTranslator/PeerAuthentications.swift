import MeshAPI

/// Which mTLS mode a workload's inbound port runs: Istio's PeerAuthentication precedence,
/// workload selector over namespace over mesh (root namespace), port-level over workload-level,
/// UNSET inheriting from the next level up, PERMISSIVE when nothing says otherwise.
enum PeerAuthentications {
    typealias Mode = PeerAuthentication.MutualTLS.Mode

    /// `port` nil is traffic to a port the workload does not declare (passthrough).
    static func mode(for proxy: Proxy, port: UInt32?, in config: MeshConfig, rootNamespace: String) -> Mode {
        let policies = config.peerAuthentications
        // As in Istio, a selector without labels selects nothing in particular: namespace-wide.
        func namespaceWide(_ policy: Resource<PeerAuthentication>) -> Bool {
            policy.spec.selector?.labels.isEmpty ?? true
        }
        let workload = policies.first {
            $0.namespace == proxy.namespace && !namespaceWide($0) && $0.spec.selector?.matches(proxy.labels) == true
        }
        let namespace = policies.first { $0.namespace == proxy.namespace && namespaceWide($0) }
        let mesh = policies.first { $0.namespace == rootNamespace && namespaceWide($0) }
        let levels: [Mode?] = [
            port.flatMap { workload?.spec.portLevelMtls[$0] }, workload?.spec.mtls?.mode,
            namespace?.spec.mtls?.mode, mesh?.spec.mtls?.mode,
        ]
        return levels.compactMap { $0 }.first { $0 != .unset } ?? .permissive
    }
}
