/// Istio's cluster names, which operators and tools (istioctl, dashboards) know by heart.
enum ClusterName {
    static let blackHole = "BlackHoleCluster"
    static let passthrough = "PassthroughCluster"
    /// Inbound connections to ports the workload does not declare, sent on to where they were going.
    static let inboundPassthrough = "InboundPassthroughCluster"

    /// `outbound|PORT|SUBSET|HOST`, e.g. `outbound|9080|v1|reviews.default.svc.cluster.local`.
    static func outbound(_ host: String, port: UInt32, subset: String = "") -> String {
        "outbound|\(port)|\(subset)|\(host)"
    }

    /// `inbound|PORT||`, the cluster to the local application.
    static func inbound(port: UInt32) -> String {
        "inbound|\(port)||"
    }
}
