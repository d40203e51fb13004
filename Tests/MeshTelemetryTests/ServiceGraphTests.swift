import EnvoyAPI
import Foundation
import MeshTelemetry
import Testing

/// Stats families as Envoy's metrics service sink sends them (tags not extracted).
enum Flush {
    static func counter(_ name: String, _ value: Double) -> Io_Prometheus_Client_MetricFamily {
        var family = Io_Prometheus_Client_MetricFamily()
        family.name = name
        family.type = .counter
        var metric = Io_Prometheus_Client_Metric()
        metric.counter.value = value
        family.metric = [metric]
        return family
    }

    /// Envoy's default buckets for `upstream_rq_time` (ms), the samples given by value.
    static func latency(_ cluster: String, samples: [Double]) -> Io_Prometheus_Client_MetricFamily {
        var family = Io_Prometheus_Client_MetricFamily()
        family.name = "cluster.\(cluster).upstream_rq_time"
        family.type = .histogram
        var metric = Io_Prometheus_Client_Metric()
        metric.histogram.sampleCount = UInt64(samples.count)
        metric.histogram.sampleSum = samples.reduce(0, +)
        metric.histogram.bucket = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000].map { bound in
            var bucket = Io_Prometheus_Client_Bucket()
            bucket.upperBound = bound
            bucket.cumulativeCount = UInt64(samples.filter { $0 <= bound }.count)
            return bucket
        }
        family.metric = [metric]
        return family
    }
}

@Suite("Per-edge golden metrics from proxies' stats flushes")
struct ServiceGraphTests {
    let reviews = "outbound|9080|v1|reviews.default.svc.cluster.local"
    let productpage = SourceWorkload(name: "productpage", namespace: "default")

    @Test("outbound cluster request counters and latency are read; every other stat is ignored")
    func parsesOutboundClusters() {
        let requests = OutboundRequests([
            Flush.counter("cluster.\(reviews).upstream_rq_200", 7),
            Flush.counter("cluster.\(reviews).upstream_rq_503", 3),
            Flush.counter("cluster.\(reviews).upstream_rq_2xx", 7),  // a class, not a code
            Flush.counter("cluster.\(reviews).upstream_rq_total", 10),
            Flush.counter("cluster.\(reviews).external.upstream_rq_200", 7),  // the same requests again
            Flush.counter("cluster.\(reviews).internal.upstream_rq_503", 3),
            Flush.counter("cluster.\(reviews).zone.a.b.upstream_rq_200", 7),
            Flush.counter("cluster.\(reviews).upstream_rq_404", 0),  // nothing since the last flush
            Flush.counter("cluster.xds-grpc.upstream_rq_200", 5),  // not an outbound cluster
            Flush.counter("cluster.inbound|9080||.upstream_rq_200", 5),
            Flush.counter("http.inbound_0.0.0.0_9080.downstream_rq_total", 5),
            Flush.latency(reviews, samples: [3, 4, 30]),
        ])
        #expect(Array(requests.clusters.keys) == [reviews])
        #expect(requests.clusters[reviews]?.responses == [200: 7, 503: 3])
        #expect(requests.clusters[reviews]?.latency?.count == 3)
    }

    @Test("flushes add up per edge: totals by code, last-minute rate and success rate")
    func aggregatesEdges() throws {
        let graph = ServiceGraph()
        let start = Date(timeIntervalSince1970: 1_000_000)
        graph.record(
            OutboundRequests([Flush.counter("cluster.\(reviews).upstream_rq_200", 40)]), from: productpage, at: start)
        graph.record(
            OutboundRequests([
                Flush.counter("cluster.\(reviews).upstream_rq_200", 50),
                Flush.counter("cluster.\(reviews).upstream_rq_503", 10),
            ]), from: productpage, at: start.addingTimeInterval(5))
        let snapshot = graph.snapshot(now: start.addingTimeInterval(10))
        #expect(snapshot.nodes.map(\.id) == ["service:reviews.default.svc.cluster.local", "workload:default/productpage"])
        let edge = try #require(snapshot.edges.first)
        #expect(edge.source == "workload:default/productpage")
        #expect(edge.destination == "service:reviews.default.svc.cluster.local")
        #expect(edge.subset == "v1")
        #expect(edge.requests == 100)
        #expect(edge.errors == 10)
        #expect(edge.responses == ["200": 90, "503": 10])
        #expect(edge.successRate == 0.9)
        #expect(edge.requestsPerSecond == 100.0 / 60)

        // A minute later the live numbers only hold what is newer; the totals keep everything.
        let later = graph.snapshot(now: start.addingTimeInterval(66))
        #expect(later.edges.first?.successRate == nil)
        #expect(later.edges.first?.requestsPerSecond == 0)
        #expect(later.edges.first?.requests == 100)
    }

    @Test("latency quantiles interpolate inside the bucket that holds them")
    func latencyQuantiles() throws {
        let graph = ServiceGraph()
        // 100 samples: 90 of 4ms (bucket 1..5], 10 of 200ms (bucket 100..250].
        graph.record(
            OutboundRequests([
                Flush.counter("cluster.\(reviews).upstream_rq_200", 100),
                Flush.latency(reviews, samples: Array(repeating: 4, count: 90) + Array(repeating: 200, count: 10)),
            ]), from: productpage)
        let edge = try #require(graph.snapshot().edges.first)
        let p50 = try #require(edge.p50Milliseconds)
        let p99 = try #require(edge.p99Milliseconds)
        #expect(p50 > 1 && p50 <= 5)
        #expect(p99 > 100 && p99 <= 250)
    }

    @Test("the Prometheus series carry Istio's names and labels")
    func istioSeries() {
        let graph = ServiceGraph()
        graph.record(
            OutboundRequests([
                Flush.counter("cluster.\(reviews).upstream_rq_200", 9),
                Flush.counter("cluster.\(reviews).upstream_rq_503", 1),
                Flush.latency(reviews, samples: Array(repeating: 4, count: 10)),
            ]), from: productpage)
        let text = IstioMetrics.render(graph)
        let labels =
            #"reporter="source",source_workload="productpage",source_workload_namespace="default","#
            + #"destination_service="reviews.default.svc.cluster.local",destination_service_name="reviews","#
            + #"destination_service_namespace="default",destination_version="v1",request_protocol="http""#
        #expect(text.contains("istio_requests_total{\(labels),response_code=\"200\"} 9\n"))
        #expect(text.contains("istio_requests_total{\(labels),response_code=\"503\"} 1\n"))
        #expect(text.contains("istio_request_duration_milliseconds_bucket{\(labels),le=\"5\"} 10\n"))
        #expect(text.contains("istio_request_duration_milliseconds_bucket{\(labels),le=\"+Inf\"} 10\n"))
        #expect(text.contains("istio_request_duration_milliseconds_count{\(labels)} 10\n"))
        #expect(text.contains("# TYPE istio_request_duration_milliseconds histogram\n"))
    }

    @Test("numbers no proxy could send are dropped, never trapped on")
    func hostileNumbers() {
        var broken = Flush.latency(reviews, samples: [1, 2])
        broken.metric[0].histogram.bucket[3].cumulativeCount = 0  // decreasing
        broken.metric[0].histogram.bucket[4].upperBound = -1  // bounds out of order
        broken.metric[0].histogram.sampleCount = .max
        let graph = ServiceGraph()
        for _ in 0..<3 {
            graph.record(
                OutboundRequests([
                    Flush.counter("cluster.\(reviews).upstream_rq_200", .infinity),
                    Flush.counter("cluster.\(reviews).upstream_rq_500", 1e300),
                    Flush.counter("cluster.\(reviews).upstream_rq_999", 3),
                    Flush.counter("cluster.\(reviews).upstream_rq_201", -4),
                    Flush.counter("cluster..upstream_rq_200", 1),
                    broken,
                ]), from: productpage)
        }
        let edge = graph.snapshot().edges.first
        #expect(edge?.requests == 0)
        #expect(edge?.p99Milliseconds != nil)
        _ = IstioMetrics.render(graph)
    }

    @Test("made-up clusters cannot grow the graph past its bound; known edges keep counting")
    func boundedEdges() {
        let graph = ServiceGraph(maxEdges: 2)
        for host in ["a", "b", "c", "d"] {
            graph.record(
                OutboundRequests([Flush.counter("cluster.outbound|80||\(host).mesh.upstream_rq_200", 1)]), from: productpage)
        }
        graph.record(OutboundRequests([Flush.counter("cluster.outbound|80||a.mesh.upstream_rq_200", 1)]), from: productpage)
        let edges = graph.snapshot().edges
        #expect(edges.map(\.destination) == ["service:a.mesh", "service:b.mesh"])
        #expect(edges.first?.requests == 2)
    }
}
