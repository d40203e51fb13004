import Foundation

/// The service graph as Istio's standard metrics, in Prometheus text format, so dashboards
/// built for Istio work against Trellis's `/metrics`: `istio_requests_total` and
/// `istio_request_duration_milliseconds`, reported by the source proxy (`reporter="source"`).
public enum IstioMetrics {
    public static func render(_ graph: ServiceGraph) -> String {
        let totals = graph.totals().sorted { labels($0.edge) < labels($1.edge) }
        var text = """
            # HELP istio_requests_total Requests from a source workload to a destination service, by response code.
            # TYPE istio_requests_total counter

            """
        for (edge, responses, _) in totals {
            for (code, count) in responses.sorted(by: { $0.key < $1.key }) {
                text += "istio_requests_total{\(labels(edge)),response_code=\"\(code)\"} \(count)\n"
            }
        }
        text += """
            # HELP istio_request_duration_milliseconds Request duration from a source workload to a destination service.
            # TYPE istio_request_duration_milliseconds histogram

            """
        for (edge, _, latency) in totals where latency.count > 0 {
            let edgeLabels = labels(edge)
            for (bound, count) in zip(latency.upperBounds, latency.cumulativeCounts) {
                text += "istio_request_duration_milliseconds_bucket{\(edgeLabels),le=\"\(number(bound))\"} \(count)\n"
            }
            text += "istio_request_duration_milliseconds_bucket{\(edgeLabels),le=\"+Inf\"} \(latency.count)\n"
            text += "istio_request_duration_milliseconds_sum{\(edgeLabels)} \(number(latency.sum))\n"
            text += "istio_request_duration_milliseconds_count{\(edgeLabels)} \(latency.count)\n"
        }
        return text
    }

    /// Istio's label names for an edge seen from its source.
    static func labels(_ edge: ServiceEdge) -> String {
        [
            ("reporter", "source"),
            ("source_workload", edge.source.name),
            ("source_workload_namespace", edge.source.namespace),
            ("destination_service", edge.destinationService),
            ("destination_service_name", edge.destinationServiceName),
            ("destination_service_namespace", edge.destinationServiceNamespace),
            ("destination_version", edge.subset.isEmpty ? "unknown" : edge.subset),
            ("request_protocol", "http"),
        ].map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    /// Prometheus label value escaping: backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// `0.5`, `25`, `1e+06`-free: integers without a fraction, others as Swift prints them.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
