/// Fields that Istio accepts but Trellis cannot translate into Envoy configuration yet. Each is
/// reported instead of dropped: an error where ignoring it would serve traffic differently from
/// what the user asked for (plaintext instead of TLS, a route for every destination instead of
/// some), a warning where traffic only loses a refinement (Istio's own corpus uses those fields
/// in valid documents, which must keep loading).
enum TranslationLimits {
    static func check(_ rule: DestinationRule, _ report: DocumentContext) {
        if let policy = rule.trafficPolicy { check(policy, at: "spec.trafficPolicy", report) }
        for (index, subset) in rule.subsets.enumerated() {
            if let policy = subset.trafficPolicy { check(policy, at: "spec.subsets[\(index)].trafficPolicy", report) }
        }
    }

    static func check(_ service: VirtualService, _ report: DocumentContext) {
        let matches =
            service.tcp.enumerated().flatMap { index, route in
                route.match.enumerated().map { ("spec.tcp[\(index)].match[\($0)]", $1.destinationSubnets) }
            }
            + service.tls.enumerated().flatMap { index, route in
                route.match.enumerated().map { ("spec.tls[\(index)].match[\($0)]", $1.destinationSubnets) }
            }
        for (path, subnets) in matches where !subnets.isEmpty {
            report.error(
                "\(path).destinationSubnets",
                "not supported yet: Trellis cannot match on the destination address; remove destinationSubnets")
        }
    }

    private static func check(_ policy: TrafficPolicy, at path: String, _ report: DocumentContext) {
        checkBlocks(policy.loadBalancer, policy.connectionPool, policy.tls, at: path, report)
        for (index, level) in policy.portLevelSettings.enumerated() {
            checkBlocks(level.loadBalancer, level.connectionPool, level.tls, at: "\(path).portLevelSettings[\(index)]", report)
        }
    }

    private static func checkBlocks(
        _ loadBalancer: LoadBalancerSettings?, _ pool: ConnectionPoolSettings?, _ tls: ClientTLSSettings?,
        at path: String, _ report: DocumentContext
    ) {
        if loadBalancer?.warmup != nil {
            report.warning(
                "\(path).loadBalancer.warmup",
                "not applied yet: Trellis does not configure Envoy's slow start; new endpoints get their full share at once")
        }
        if pool?.http?.http2KeepAlive != nil {
            report.warning(
                "\(path).connectionPool.http.http2KeepAlive",
                "not applied yet: Trellis does not configure HTTP/2 PING keepalive on upstream connections")
        }
        guard let tls else { return }
        if tls.mode == .mutual {
            report.error(
                "\(path).tls.mode",
                "not supported yet: Trellis cannot originate MUTUAL TLS with client certificates; use SIMPLE, or ISTIO_MUTUAL inside the mesh")
        }
        if tls.credentialName != nil {
            report.error(
                "\(path).tls.credentialName",
                "not supported yet: Trellis has no credential store; give caCertificates as a file on the proxy's host")
        }
    }
}
