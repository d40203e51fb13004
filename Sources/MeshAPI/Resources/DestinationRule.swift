/// `networking.istio.io` DestinationRule: what happens to traffic after routing picked `host`:
/// load balancing, connection limits, outlier detection, TLS, and named subsets of endpoints.
public struct DestinationRule: Sendable, Equatable {
    public var host: String
    public var trafficPolicy: TrafficPolicy?
    public var subsets: [Subset]
    public var exportTo: [String]
    /// Applies the rule only to the selected workloads (the `matchLabels` of the YAML).
    public var workloadSelector: WorkloadSelector?

    public init(
        host: String, trafficPolicy: TrafficPolicy? = nil, subsets: [Subset] = [], exportTo: [String] = [],
        workloadSelector: WorkloadSelector? = nil
    ) {
        self.host = host
        self.trafficPolicy = trafficPolicy
        self.subsets = subsets
        self.exportTo = exportTo
        self.workloadSelector = workloadSelector
    }

    /// The subset named `name`, if the rule defines it.
    public func subset(named name: String) -> Subset? {
        subsets.first { $0.name == name }
    }
}

/// The endpoints of the host that carry all of `labels`, with an optional policy of their own
/// (which replaces the rule's policy block by block).
public struct Subset: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var trafficPolicy: TrafficPolicy?

    public init(name: String, labels: [String: String] = [:], trafficPolicy: TrafficPolicy? = nil) {
        self.name = name
        self.labels = labels
        self.trafficPolicy = trafficPolicy
    }
}
