import AdminAPI
import Foundation
import Metrics
import Prometheus
import XDSServer

/// `GET /metrics`: Prometheus text through swift-metrics and swift-prometheus. Counters move as
/// things happen (pushes, NACKs, ACK latency, translation time); gauges are read from the
/// server's state when scraped (connected proxies, resources, config errors, certificates).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let xds: XDSMetrics
    let translation: Metrics.Timer
    private let storeWrites: Metrics.Counter
    private let connected: [String: Metrics.Gauge]
    private let servedResources: Metrics.Gauge
    private let rejectedResources: Metrics.Gauge
    private let configErrors: Metrics.Gauge
    private let certificatesIssued: Metrics.Gauge
    private let certificateSoonestExpiry: Metrics.Gauge
    private let storeAvailable: Metrics.Gauge

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]
        factory.defaultDurationHistogramBuckets = latency
        self.factory = factory
        xds = XDSMetrics(factory: factory)
        translation = Metrics.Timer(label: "trellis_translation_seconds", factory: factory)
        storeWrites = Metrics.Counter(label: "trellis_store_writes_total", factory: factory)
        connected = Dictionary(
            uniqueKeysWithValues: ["sidecar", "gateway", "grpc"].map {
                ($0, Metrics.Gauge(label: "trellis_proxies_connected", dimensions: [("kind", $0)], factory: factory))
            })
        servedResources = Metrics.Gauge(label: "trellis_config_resources", factory: factory)
        rejectedResources = Metrics.Gauge(label: "trellis_config_rejected_resources", factory: factory)
        configErrors = Metrics.Gauge(label: "trellis_config_errors", factory: factory)
        certificatesIssued = Metrics.Gauge(label: "trellis_certificates_issued", factory: factory)
        certificateSoonestExpiry = Metrics.Gauge(label: "trellis_certificate_soonest_expiry_timestamp_seconds", factory: factory)
        storeAvailable = Metrics.Gauge(label: "trellis_store_available", factory: factory)
    }

    /// One write transaction through the API (`MeshResources`).
    func storeWritten() { storeWrites.increment() }

    /// The text exposition, gauges refreshed from the current state first.
    func render(
        proxies: [ConnectedProxies.Stream], status: ConfigStatus, certificates: (issued: Int, soonestExpiry: Date?),
        storeAvailable available: Bool
    ) -> String {
        for (kind, gauge) in connected { gauge.record(proxies.filter { $0.kind == kind }.count) }
        servedResources.record(status.servedResources)
        rejectedResources.record(status.rejected.count)
        configErrors.record(status.errors.count)
        certificatesIssued.record(certificates.issued)
        certificateSoonestExpiry.record(certificates.soonestExpiry?.timeIntervalSince1970 ?? 0)
        storeAvailable.record(available ? 1 : 0)
        return registry.emitToString()
    }
}
