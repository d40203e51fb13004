public import CoreMetrics
import Metrics
import XDSCache

/// What the ADS streams count, through swift-metrics: responses pushed and NACKs by type, and
/// how long a proxy takes to ACK a change (from its snapshot reaching the stream to the ACK).
public struct XDSMetrics: Sendable {
    private let pushes: [ResourceType: Counter]
    private let nacks: [ResourceType: Counter]
    private let ackLatency: [ResourceType: Timer]

    public init(factory: any MetricsFactory) {
        func each<M>(_ make: (ResourceType) -> M) -> [ResourceType: M] {
            Dictionary(uniqueKeysWithValues: ResourceType.allCases.map { ($0, make($0)) })
        }
        pushes = each { Counter(label: "trellis_xds_pushes_total", dimensions: [("type", $0.shortName)], factory: factory) }
        nacks = each { Counter(label: "trellis_xds_nacks_total", dimensions: [("type", $0.shortName)], factory: factory) }
        ackLatency = each {
            Timer(label: "trellis_xds_push_ack_seconds", dimensions: [("type", $0.shortName)], factory: factory)
        }
    }

    /// Counts nothing (tests, and servers built without a registry).
    public static let none = XDSMetrics(factory: NOOPMetricsHandler.instance)

    func pushed(_ type: ResourceType) { pushes[type]?.increment() }
    func nacked(_ type: ResourceType) { nacks[type]?.increment() }
    func acknowledged(_ type: ResourceType, after duration: Duration) { ackLatency[type]?.record(duration: duration) }
}
