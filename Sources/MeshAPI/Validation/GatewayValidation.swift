/// Istio's `ValidateGateway`: servers, their hosts, ports and TLS.
enum GatewayValidation {
    static func validate(_ gateway: Gateway, key: ResourceKey, _ report: DocumentContext) {
        if key.name.contains(".") {
            report.error("metadata.name", "invalid gateway name: \"\(key.name)\": must not contain dots")
        }
        CommonChecks.checkLabels(gateway.selector, at: "spec.selector", report)
        if gateway.servers.isEmpty { report.error("spec.servers", "gateway must have at least one server") }
        var portNames: Set<String> = []
        for (index, server) in gateway.servers.enumerated() {
            let path = "spec.servers[\(index)]"
            validate(server, at: path, report)
            if !portNames.insert(server.port.name).inserted {
                report.error("\(path).port.name", "port names in servers must be unique: duplicate name \(server.port.name)")
            }
            if !server.port.protocol.isHTTP && server.tls?.httpsRedirect == true {
                report.warning("\(path).tls.httpsRedirect", "tls.httpsRedirect should only be used with http servers")
            }
        }
    }

    private static func validate(_ server: Gateway.Server, at path: String, _ report: DocumentContext) {
        if server.hosts.isEmpty { report.error("\(path).hosts", "server config must contain at least one host") }
        for (index, host) in server.hosts.enumerated() {
            if let problem = HostChecks.namespacedHostProblem(host, requireNamespace: false) {
                report.error("\(path).hosts[\(index)]", problem)
            }
        }
        let port = server.port
        let bind = server.bind ?? ""
        if port.number > 0 || !bind.hasPrefix("unix://") {
            if let problem = CommonChecks.portProblem(port.number) { report.error("\(path).port.number", problem) }
        }
        if port.targetPort != nil { report.warning("\(path).port.targetPort", "targetPort has no impact on Gateways") }
        if port.name.isEmpty { report.error("\(path).port.name", "port name must be set") }
        if bind.hasPrefix("unix://") {
            if let problem = CommonChecks.unixAddressProblem(String(bind.dropFirst("unix://".count))) {
                report.error("\(path).bind", problem)
            }
            if port.number != 0 { report.error("\(path).port.number", "port number must be 0 for unix domain socket: \(port.number)") }
        } else if !bind.isEmpty, let problem = CommonChecks.ipAddressProblem(bind) {
            report.error("\(path).bind", problem)
        }
        if let tls = server.tls { checkTLS(tls, at: "\(path).tls", report) }
        if port.protocol.isTLS && server.tls == nil {
            report.error("\(path).tls", "server must have TLS settings for HTTPS/TLS protocols")
        } else if !port.protocol.isTLS, let tls = server.tls {
            if port.protocol.isHTTP {
                // Plain HTTP servers may only carry the redirect to HTTPS.
                let redirectOnly = tls.mode == .passthrough && tls.caCertificates == nil && tls.privateKey == nil
                    && tls.serverCertificate == nil
                if !redirectOnly { report.error("\(path).tls", "server cannot have TLS settings for plain text HTTP ports") }
            } else {
                report.error("\(path).tls", "server cannot have TLS settings for non HTTPS/TLS ports")
            }
        }
    }

    /// Istio's `validateTLSOptions` for servers.
    static func checkTLS(_ tls: ServerTLSSettings, at path: String, _ report: DocumentContext) {
        if tls.mode == .istioMutual {
            let fields: [(String, String?)] = [
                ("serverCertificate", tls.serverCertificate), ("privateKey", tls.privateKey),
                ("caCertificates", tls.caCertificates), ("credentialName", tls.credentialName),
            ]
            for (name, value) in fields where value != nil {
                report.error("\(path).\(name)", "ISTIO_MUTUAL TLS cannot have associated \(name)")
            }
            return
        }
        if (tls.mode == .simple || tls.mode == .optionalMutual) && tls.credentialName == nil {
            if tls.serverCertificate == nil { report.error("\(path).serverCertificate", "SIMPLE TLS requires a server certificate") }
            if tls.privateKey == nil { report.error("\(path).privateKey", "SIMPLE TLS requires a private key") }
        }
        if tls.mode == .mutual && tls.credentialName == nil {
            if tls.serverCertificate == nil { report.error("\(path).serverCertificate", "MUTUAL TLS requires a server certificate") }
            if tls.privateKey == nil { report.error("\(path).privateKey", "MUTUAL TLS requires a private key") }
            if tls.caCertificates == nil { report.error("\(path).caCertificates", "MUTUAL TLS requires a client CA bundle") }
        }
        if let min = tls.minProtocolVersion, let max = tls.maxProtocolVersion, min != .auto, max != .auto, min > max {
            report.error("\(path).minProtocolVersion", "minProtocolVersion \(min.rawValue) is greater than maxProtocolVersion \(max.rawValue)")
        }
        var seen: Set<String> = []
        for suite in tls.cipherSuites where !seen.insert(suite).inserted {
            report.warning("\(path).cipherSuites", "ignoring duplicate cipher suite \(suite)")
        }
    }
}

/// `namespace/host` entries of Gateway servers and Sidecar egress listeners.
enum HostChecks {
    /// Gateways accept a bare `host` (any namespace); Sidecars require `namespace/host`, where
    /// the namespace may also be `~` (none). Only whole-label wildcards are allowed.
    static func namespacedHostProblem(_ entry: String, requireNamespace: Bool) -> String? {
        var parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 {
            if requireNamespace { return "host must be of form namespace/dnsName" }
            parts = ["*", entry]
        }
        let (namespace, host) = (parts[0], parts[1])
        if namespace.isEmpty || host.isEmpty { return "config namespace and dnsName in host entry cannot be empty" }
        let specialNamespaces: Set<String> = requireNamespace ? ["*", ".", "~"] : ["*", "."]
        if !specialNamespaces.contains(namespace) && !Names.isDNS1123Label(namespace) {
            return "invalid namespace value \"\(namespace)\" in host \"\(entry)\""
        }
        if Names.isPartialWildcard(host) {
            return "partial wildcard \"\(host)\" not allowed; use \"*\" or \"*.domain\""
        }
        return Names.wildcardDomainProblem(host)
    }
}
