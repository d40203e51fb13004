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
            for problem in HostChecks.namespacedHostProblems(host, owner: .gateway) {
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

/// `namespace/host` entries of Gateway servers and Sidecar egress listeners, as Istio's
/// `ValidateNamespaceSlashWildcardHostname` checks them.
enum HostChecks {
    enum Owner: String { case sidecar, gateway }

    /// Every problem of one entry. Sidecars require `namespace/host`, where the namespace may be
    /// prefixed with `~` (import nothing from it); Gateways also accept a bare `host` and an IP
    /// address. The host must be `*` or a fully qualified name whose only wildcard is a whole
    /// first label: short names are rejected because they would mean a different service in
    /// each namespace that imports the config.
    static func namespacedHostProblems(_ entry: String, owner: Owner) -> [String] {
        let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            return owner == .sidecar ? ["host must be of form namespace/dnsName"] : hostPartProblems(entry, owner: owner)
        }
        let (namespace, host) = (parts[0], parts[1])
        var problems: [String] = []
        if namespace.isEmpty || host.isEmpty { problems.append("config namespace and dnsName in host entry cannot be empty") }
        let bare = owner == .sidecar && namespace.hasPrefix("~") ? String(namespace.dropFirst()) : namespace
        let special: Set<String> = owner == .sidecar ? ["", "*", "."] : ["*", "."]
        if !special.contains(bare) && !Names.isDNS1123Label(bare) {
            problems.append("invalid namespace value \"\(namespace)\" in \(owner.rawValue)")
        }
        return problems + hostPartProblems(host, owner: owner)
    }

    /// Istio's `validateSidecarOrGatewayHostnamePart`.
    private static func hostPartProblems(_ host: String, owner: Owner) -> [String] {
        var problems: [String] = []
        if host != "*" && !host.contains(".") { problems.append("short names (non FQDN) are not allowed") }
        let isIP = owner == .gateway && IPAddress.isValid(host)
        if !isIP, let problem = Names.wildcardDomainProblem(host) {
            problems.append(problem)
        }
        if Names.isPartialWildcard(host) { problems.append("partial wildcard \"\(host)\" not allowed") }
        return problems
    }
}
