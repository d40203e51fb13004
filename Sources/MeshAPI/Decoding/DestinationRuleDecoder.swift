/// Decodes DestinationRule specs and their traffic policies.
enum DestinationRuleDecoder {
    static func decode(_ spec: ObjectReader) -> DestinationRule? {
        DestinationRule(
            host: spec.string("host") ?? "",
            trafficPolicy: spec.object("trafficPolicy") { trafficPolicy($0) },
            subsets: spec.objects("subsets") { subset in
                Subset(
                    name: subset.required("name")?.string() ?? "", labels: subset.stringMap("labels"),
                    trafficPolicy: subset.object("trafficPolicy") { trafficPolicy($0) })
            },
            exportTo: spec.strings("exportTo"),
            workloadSelector: spec.object("workloadSelector") {
                ServiceEntryDecoder.labelSelector($0, key: "matchLabels")
            })
    }

    static func trafficPolicy(_ reader: ObjectReader) -> TrafficPolicy? {
        reader.notSupported("tunnel", "proxyProtocol", "retryBudget")
        var policy = TrafficPolicy()
        fillCommon(reader, into: &policy.loadBalancer, &policy.connectionPool, &policy.outlierDetection, &policy.tls)
        policy.portLevelSettings = reader.objects("portLevelSettings") { port in
            var settings = TrafficPolicy.PortTrafficPolicy(port: port.portSelector("port"))
            fillCommon(port, into: &settings.loadBalancer, &settings.connectionPool, &settings.outlierDetection, &settings.tls)
            return settings
        }
        return policy
    }

    /// The four blocks a policy and its per-port overrides share.
    private static func fillCommon(
        _ reader: ObjectReader, into loadBalancer: inout LoadBalancerSettings?,
        _ connectionPool: inout ConnectionPoolSettings?, _ outlierDetection: inout OutlierDetection?,
        _ tls: inout ClientTLSSettings?
    ) {
        loadBalancer = reader.object("loadBalancer", TrafficPolicyDecoder.loadBalancer)
        connectionPool = reader.object("connectionPool", TrafficPolicyDecoder.connectionPool)
        outlierDetection = reader.object("outlierDetection", TrafficPolicyDecoder.outlierDetection)
        tls = reader.object("tls", TrafficPolicyDecoder.clientTLS)
    }
}
