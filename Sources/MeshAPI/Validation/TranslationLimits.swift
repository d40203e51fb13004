/// DestinationRule fields that Istio accepts but Trellis cannot honour (yet, or in that
/// combination). Each is reported instead of dropped: an error where ignoring it would serve
/// traffic differently from what the user asked for (no client certificate where one was
/// required), a warning where a setting simply has no effect.
enum TranslationLimits {
    static func check(_ rule: DestinationRule, _ report: DocumentContext) {
        if let policy = rule.trafficPolicy { check(policy, at: "spec.trafficPolicy", report) }
        for (index, subset) in rule.subsets.enumerated() {
            if let policy = subset.trafficPolicy { check(policy, at: "spec.subsets[\(index)].trafficPolicy", report) }
        }
    }

    private static func check(_ policy: TrafficPolicy, at path: String, _ report: DocumentContext) {
        checkBlocks(policy.loadBalancer, policy.tls, at: path, report)
        for (index, level) in policy.portLevelSettings.enumerated() {
            checkBlocks(level.loadBalancer, level.tls, at: "\(path).portLevelSettings[\(index)]", report)
        }
    }

    private static func checkBlocks(
        _ loadBalancer: LoadBalancerSettings?, _ tls: ClientTLSSettings?,
        at path: String, _ report: DocumentContext
    ) {
        if let balancer = loadBalancer, balancer.warmup != nil,
            balancer.consistentHash != nil || balancer.simple == .random || balancer.simple == .passthrough
        {
            // Istio ignores it there without a word; say so.
            report.warning(
                "\(path).loadBalancer.warmup",
                "has no effect: Envoy's slow start works only with ROUND_ROBIN and LEAST_REQUEST balancing")
        }
        guard let tls else { return }
        if tls.credentialName != nil {
            report.error(
                "\(path).tls.credentialName",
                "not supported yet: Trellis has no credential store; give caCertificates (and for MUTUAL clientCertificate and privateKey) as files on the proxy's host")
        }
    }
}
