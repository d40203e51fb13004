/// `security.istio.io` PeerAuthentication: whether the selected workloads (all of the namespace,
/// or of the mesh in the root namespace, without a selector) accept plain text or require mTLS.
public struct PeerAuthentication: Sendable, Equatable {
    public struct MutualTLS: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            /// Inherit from the parent scope (namespace, then mesh).
            case unset = "UNSET"
            case disable = "DISABLE"
            case permissive = "PERMISSIVE"
            case strict = "STRICT"
        }

        public var mode: Mode

        public init(mode: Mode = .unset) {
            self.mode = mode
        }
    }

    /// The `matchLabels` of the YAML.
    public var selector: WorkloadSelector?
    public var mtls: MutualTLS?
    /// Per workload port; requires a selector.
    public var portLevelMtls: [UInt32: MutualTLS.Mode]

    public init(selector: WorkloadSelector? = nil, mtls: MutualTLS? = nil, portLevelMtls: [UInt32: MutualTLS.Mode] = [:]) {
        self.selector = selector
        self.mtls = mtls
        self.portLevelMtls = portLevelMtls
    }
}
