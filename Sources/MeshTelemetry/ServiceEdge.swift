/// A workload that sends requests: Istio's `source_workload` and `source_workload_namespace`.
public struct SourceWorkload: Sendable, Hashable, Codable {
    public var name: String
    public var namespace: String

    public init(name: String, namespace: String) {
        self.name = name
        self.namespace = namespace
    }
}

/// One edge of the service graph: a source workload's requests to a destination service (and
/// subset, Istio's `destination_version`), as its sidecar's outbound cluster counts them.
public struct ServiceEdge: Sendable, Hashable {
    public var source: SourceWorkload
    /// The destination's host, e.g. `reviews.default.svc.cluster.local`.
    public var destinationService: String
    /// Empty when the route names no subset.
    public var subset: String

    public init(source: SourceWorkload, destinationService: String, subset: String) {
        self.source = source
        self.destinationService = destinationService
        self.subset = subset
    }

    /// The edge an Istio outbound cluster name (`outbound|PORT|SUBSET|HOST`) stands for; nil for
    /// any other cluster.
    public init?(source: SourceWorkload, outboundCluster name: String) {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "outbound", !parts[3].isEmpty else { return nil }
        self.init(source: source, destinationService: String(parts[3]), subset: String(parts[2]))
    }

    /// `reviews` of `reviews.default.svc.cluster.local` (Istio's `destination_service_name`).
    public var destinationServiceName: String {
        String(destinationService.prefix { $0 != "." })
    }

    /// The namespace a Kubernetes-style host names (`NAME.NAMESPACE.svc...`), else "unknown"
    /// (Istio's value when it cannot tell).
    public var destinationServiceNamespace: String {
        let labels = destinationService.split(separator: ".")
        guard labels.count >= 3, labels[2] == "svc" else { return "unknown" }
        return String(labels[1])
    }
}
