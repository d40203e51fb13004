/// Istio's `ValidateDestinationRule` and its traffic-policy checks.
enum DestinationRuleValidation {
    static func validate(_ rule: DestinationRule, key: ResourceKey, _ report: DocumentContext) {
        if rule.host.isEmpty {
            report.error("spec.host", "Required value: host is required")
        } else if let problem = Names.wildcardDomainProblem(rule.host) {
            report.error("spec.host", problem)
        }
        if let policy = rule.trafficPolicy { checkPolicy(policy, at: "spec.trafficPolicy", report) }
        var names: Set<String> = []
        for (index, subset) in rule.subsets.enumerated() {
            let path = "spec.subsets[\(index)]"
            if subset.name.isEmpty {
                report.error("\(path).name", "Required value: subset name cannot be empty")
            } else if !Names.isDNS1123Label(subset.name) {
                report.error("\(path).name", "subset name is invalid: \(subset.name)")
            } else if !names.insert(subset.name).inserted {
                report.error("\(path).name", "Duplicate value: \"\(subset.name)\": duplicate subset names")
            }
            CommonChecks.checkLabels(subset.labels, at: "\(path).labels", report)
            if let policy = subset.trafficPolicy { checkPolicy(policy, at: "\(path).trafficPolicy", report) }
        }
        CommonChecks.checkExportTo(rule.exportTo, namespace: key.namespace, isServiceEntry: false, at: "spec.exportTo", report)
        if let selector = rule.workloadSelector {
            CommonChecks.checkSelector(selector.labels, at: "spec.workloadSelector.matchLabels", report)
            let exported = Set(rule.exportTo.map { $0 == "." ? key.namespace : $0 })
            if !exported.isEmpty && exported != [key.namespace] {
                report.error("spec.exportTo", "destination rule with workload selector cannot have exportTo beyond current namespace")
            }
        }
    }

    static func checkPolicy(_ policy: TrafficPolicy, at path: String, _ report: DocumentContext) {
        if policy == TrafficPolicy() {
            report.error(path, "traffic policy must have at least one field")
            return
        }
        checkBlocks(policy.loadBalancer, policy.connectionPool, policy.outlierDetection, policy.tls, at: path, report)
        for (index, settings) in policy.portLevelSettings.enumerated() {
            let portPath = "\(path).portLevelSettings[\(index)]"
            if let port = settings.port {
                if let problem = CommonChecks.portProblem(port) { report.error("\(portPath).port.number", problem) }
            } else {
                report.error("\(portPath).port", "portTrafficPolicy must have valid port")
            }
            if settings.loadBalancer == nil && settings.connectionPool == nil && settings.outlierDetection == nil
                && settings.tls == nil
            {
                report.error(portPath, "port traffic policy must have at least one field")
            } else {
                checkBlocks(
                    settings.loadBalancer, settings.connectionPool, settings.outlierDetection, settings.tls,
                    at: portPath, report)
            }
        }
    }

    private static func checkBlocks(
        _ loadBalancer: LoadBalancerSettings?, _ pool: ConnectionPoolSettings?, _ outlier: OutlierDetection?,
        _ tls: ClientTLSSettings?, at path: String, _ report: DocumentContext
    ) {
        if let loadBalancer { checkLoadBalancer(loadBalancer, at: "\(path).loadBalancer", report) }
        if let pool { checkConnectionPool(pool, at: "\(path).connectionPool", report) }
        if let outlier { checkOutlierDetection(outlier, at: "\(path).outlierDetection", report) }
        if let tls { checkTLS(tls, at: "\(path).tls", report) }
    }

    private static func checkLoadBalancer(_ settings: LoadBalancerSettings, at path: String, _ report: DocumentContext) {
        guard let hash = settings.consistentHash else { return }
        if let cookie = hash.httpCookie {
            if cookie.name.isEmpty { report.error("\(path).consistentHash.httpCookie.name", "name required for HttpCookie") }
            if cookie.ttl == nil { report.error("\(path).consistentHash.httpCookie.ttl", "ttl required for HttpCookie") }
        }
        if hash.minimumRingSize != nil {
            if hash.ringHash != nil {
                report.error("\(path).consistentHash", "only one of MinimumRingSize or RingHash can be specified")
            } else {
                report.warning(
                    "\(path).consistentHash.minimumRingSize",
                    "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead")
            }
        }
    }

    private static func checkConnectionPool(_ pool: ConnectionPoolSettings, at path: String, _ report: DocumentContext) {
        if pool.http == nil && pool.tcp == nil {
            report.error(path, "connection pool must have at least one field")
        }
        if let http = pool.http {
            let limits: [(String, Int32?)] = [
                ("http1MaxPendingRequests", http.http1MaxPendingRequests), ("http2MaxRequests", http.http2MaxRequests),
                ("maxRequestsPerConnection", http.maxRequestsPerConnection), ("maxRetries", http.maxRetries),
                ("maxConcurrentStreams", http.maxConcurrentStreams),
            ]
            for (name, value) in limits where (value ?? 0) < 0 {
                report.error("\(path).http.\(name)", "\(name) must be non-negative")
            }
            if http.h2UpgradePolicy == .upgrade && http.useClientProtocol == true {
                report.error("\(path).http", "use client protocol must not be true when h2UpgradePolicy is UPGRADE")
            }
            if let keepAlive = http.http2KeepAlive, keepAlive.interval != nil, keepAlive.timeout == nil {
                // Envoy requires a PING timeout and has no default for it: it would reject the cluster.
                report.error(
                    "\(path).http.http2KeepAlive.timeout",
                    "Required value: Trellis needs a timeout with interval (Envoy's HTTP/2 keepalive has no default timeout)")
            }
        }
        if let tcp = pool.tcp, let max = tcp.maxConnections, max < 0 {
            report.error("\(path).tcp.maxConnections", "max connections must be non-negative")
        }
    }

    private static func checkOutlierDetection(_ outlier: OutlierDetection, at path: String, _ report: DocumentContext) {
        if outlier.splitExternalLocalOriginErrors != true && (outlier.consecutiveLocalOriginFailures ?? 0) > 0 {
            report.error(
                "\(path).consecutiveLocalOriginFailures",
                "outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false")
        }
        if let percent = outlier.maxEjectionPercent, let problem = CommonChecks.percentProblem(percent) {
            report.error("\(path).maxEjectionPercent", problem)
        }
        if let percent = outlier.minHealthPercent, let problem = CommonChecks.percentProblem(percent) {
            report.error("\(path).minHealthPercent", problem)
        }
    }

    /// Istio's `ValidateTLS` for client TLS settings.
    private static func checkTLS(_ tls: ClientTLSSettings, at path: String, _ report: DocumentContext) {
        if tls.insecureSkipVerify == true {
            if tls.mode == .simple && (tls.caCertificates != nil || tls.credentialName != nil || !tls.subjectAltNames.isEmpty) {
                report.error(path, "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true")
            }
            if tls.mode == .mutual && (tls.caCertificates != nil || !tls.subjectAltNames.isEmpty) {
                report.error(path, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true")
            }
        }
        if (tls.mode == .simple || tls.mode == .mutual) && tls.credentialName != nil {
            if tls.clientCertificate != nil || tls.caCertificates != nil || tls.privateKey != nil {
                report.error(path, "cannot specify client certificates or CA certificate If credentialName is set")
            }
            return
        }
        if tls.mode == .mutual {
            if tls.clientCertificate == nil { report.error("\(path).clientCertificate", "client certificate required for mutual tls") }
            if tls.privateKey == nil { report.error("\(path).privateKey", "private key required for mutual tls") }
        }
    }
}
