/// Istio's `ValidatePeerAuthentication` and `ValidateAuthorizationPolicy`.
enum SecurityValidation {
    static func validate(_ policy: PeerAuthentication, _ report: DocumentContext) {
        if let selector = policy.selector {
            CommonChecks.checkSelector(selector.labels, at: "spec.selector.matchLabels", report)
        }
        if !policy.portLevelMtls.isEmpty && (policy.selector?.labels.isEmpty ?? true) {
            report.error("spec.portLevelMtls", "portLevelMtls requires selector: mesh/namespace peer authentication cannot have port level mTLS")
        }
    }

    /// Attributes a `when` condition may test. Keys ending in `[` take a `[name]` suffix.
    static let conditionKeys: Set<String> = [
        "source.ip", "remote.ip", "source.namespace", "source.principal", "source.trustDomain",
        "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
        "destination.ip", "destination.port", "connection.sni",
    ]
    static let mapConditionPrefixes = ["request.headers", "request.auth.claims", "experimental.envoy.filters."]

    static func validate(_ policy: AuthorizationPolicy, _ report: DocumentContext) {
        if let selector = policy.selector {
            CommonChecks.checkSelector(selector.labels, at: "spec.selector.matchLabels", report)
        }
        switch policy.action {
        case .custom, .audit:
            // Istio hands CUSTOM to an external authorizer and AUDIT to a logging provider;
            // Trellis has neither, and a policy that silently did nothing would be worse.
            report.error(
                "spec.action",
                "not supported yet: action \(policy.action.rawValue) (Trellis has no \(policy.action == .custom ? "external authorization" : "audit logging") providers); use ALLOW or DENY")
        default:
            break
        }
        switch policy.action {
        case .custom:
            if policy.rules.isEmpty {
                report.error("spec.rules", "CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request")
            }
            if (policy.provider?.name ?? "").isEmpty {
                report.error("spec.provider.name", "`provider.name` must not be empty")
            }
        case .deny:
            if policy.rules.isEmpty {
                report.error("spec.rules", "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request")
            }
            fallthrough
        case .allow, .audit:
            if policy.provider != nil {
                report.error("spec.provider", "provider is only allowed with action CUSTOM, not \(policy.action.rawValue)")
            }
        }
        for (index, rule) in policy.rules.enumerated() {
            let path = "spec.rules[\(index)]"
            for (sourceIndex, source) in rule.from.enumerated() {
                checkSource(source, at: "\(path).from[\(sourceIndex)].source", report)
            }
            for (operationIndex, operation) in rule.to.enumerated() {
                checkOperation(operation, at: "\(path).to[\(operationIndex)].operation", report)
            }
            for (conditionIndex, condition) in rule.when.enumerated() {
                checkCondition(condition, at: "\(path).when[\(conditionIndex)]", report)
            }
        }
    }

    private static func checkSource(_ source: AuthorizationPolicy.Source, at path: String, _ report: DocumentContext) {
        if source.isEmpty { report.error(path, "`from.source` must not be empty") }
        if !(source.serviceAccounts.isEmpty && source.notServiceAccounts.isEmpty)
            && !(source.principals.isEmpty && source.notPrincipals.isEmpty && source.namespaces.isEmpty
                && source.notNamespaces.isEmpty)
        {
            report.error(path, "Cannot set serviceAccounts with namespaces or principals")
        }
        for (name, accounts) in [("serviceAccounts", source.serviceAccounts), ("notServiceAccounts", source.notServiceAccounts)]
        where accounts.count > 16 {
            report.error("\(path).\(name)", "Too many: \(accounts.count): must have at most 16 items")
        }
        let ipFields = [
            ("ipBlocks", source.ipBlocks), ("notIpBlocks", source.notIpBlocks), ("remoteIpBlocks", source.remoteIpBlocks),
            ("notRemoteIpBlocks", source.notRemoteIpBlocks),
        ]
        for (name, values) in ipFields { checkIPs(values, at: "\(path).\(name)", report) }
        let valueFields = [
            ("principals", source.principals), ("notPrincipals", source.notPrincipals),
            ("requestPrincipals", source.requestPrincipals), ("notRequestPrincipals", source.notRequestPrincipals),
            ("namespaces", source.namespaces), ("notNamespaces", source.notNamespaces),
            ("serviceAccounts", source.serviceAccounts), ("notServiceAccounts", source.notServiceAccounts),
            ("trustDomains", source.trustDomains), ("notTrustDomains", source.notTrustDomains),
        ]
        for (name, values) in valueFields + ipFields { checkNotEmpty(values, at: "\(path).\(name)", report) }
    }

    private static func checkOperation(_ operation: AuthorizationPolicy.Operation, at path: String, _ report: DocumentContext) {
        if operation.isEmpty { report.error(path, "`to.operation` must not be empty") }
        checkPorts(operation.ports, at: "\(path).ports", report)
        checkPorts(operation.notPorts, at: "\(path).notPorts", report)
        let fields = [
            ("hosts", operation.hosts), ("notHosts", operation.notHosts), ("ports", operation.ports),
            ("notPorts", operation.notPorts), ("methods", operation.methods), ("notMethods", operation.notMethods),
            ("paths", operation.paths), ("notPaths", operation.notPaths),
        ]
        for (name, values) in fields { checkNotEmpty(values, at: "\(path).\(name)", report) }
        for (name, paths) in [("paths", operation.paths), ("notPaths", operation.notPaths)] {
            for (index, value) in paths.enumerated() {
                if let problem = PathTemplate.problem(value) { report.error("\(path).\(name)[\(index)]", problem) }
            }
        }
    }

    private static func checkCondition(_ condition: AuthorizationPolicy.Condition, at path: String, _ report: DocumentContext) {
        let key = condition.key
        if key.isEmpty {
            report.error("\(path).key", "`key` must not be empty")
            return
        }
        if condition.values.isEmpty && condition.notValues.isEmpty {
            report.error(path, "at least one of `values` or `notValues` must be set for key \(key)")
            return
        }
        if mapConditionPrefixes.contains(where: key.hasPrefix) {
            if !isMapKey(key) { report.error("\(path).key", "bad key (\(key)): should have format a[b]") }
        } else if !conditionKeys.contains(key) {
            report.error("\(path).key", "unknown attribute: \(key)")
            return
        }
        for (name, values) in [("values", condition.values), ("notValues", condition.notValues)] {
            switch key {
            case "source.ip", "remote.ip", "destination.ip": checkIPs(values, at: "\(path).\(name)", report)
            case "destination.port": checkPorts(values, at: "\(path).\(name)", report)
            default: checkNotEmpty(values, at: "\(path).\(name)", report)
            }
        }
    }

    /// `name[key]` with a non-empty name and key.
    private static func isMapKey(_ key: String) -> Bool {
        guard key.hasSuffix("]"), let open = key.firstIndex(of: "[") else { return false }
        let offset = key.distance(from: key.startIndex, to: open)
        return offset > 0 && offset < key.count - 2
    }

    private static func checkIPs(_ values: [String], at path: String, _ report: DocumentContext) {
        for (index, value) in values.enumerated() {
            let valid = value.contains("/") ? IPAddress.isValidPrefix(value) : IPAddress.isValid(value)
            if !valid {
                report.error("\(path)[\(index)]", value.contains("/") ? "bad CIDR range (\(value))" : "bad IP address (\(value))")
            }
        }
    }

    private static func checkPorts(_ values: [String], at path: String, _ report: DocumentContext) {
        for (index, value) in values.enumerated() {
            guard let port = UInt32(value), port <= 65535 else {
                report.error("\(path)[\(index)]", "bad port (\(value))")
                continue
            }
        }
    }

    private static func checkNotEmpty(_ values: [String], at path: String, _ report: DocumentContext) {
        for (index, value) in values.enumerated() where value.isEmpty {
            report.error("\(path)[\(index)]", "empty value not allowed")
        }
    }
}

/// Istio's `CheckValidPathTemplate`: `{*}` (one segment) and `{**}` (any segments, once) must be
/// whole segments, and a templated path may only contain RFC 3986 path characters.
enum PathTemplate {
    static func problem(_ path: String) -> String? {
        let templated = path.contains("{*}") || path.contains("{**}")
        var sawMatchAny = false
        let trimmed = path.drop { $0 == "/" }.reversed().drop { $0 == "/" }.reversed()
        for segment in String(trimmed).split(separator: "/", omittingEmptySubsequences: false) {
            if segment == "{*}" && !sawMatchAny { continue }
            if segment == "{**}" && !sawMatchAny {
                sawMatchAny = true
                continue
            }
            if segment.contains("{") || segment.contains("}") {
                return "invalid or unsupported path \(path): contains '{' or '}' beyond a supported path template"
            }
            if templated && !segment.unicodeScalars.allSatisfy(isPathCharacter) {
                return "invalid or unsupported path \(path): segment \(segment) is not a valid string literal"
            }
        }
        return nil
    }

    /// RFC 3986 `pchar`: unreserved, percent-encoded, sub-delims, `:` and `@`.
    private static func isPathCharacter(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let byte = UInt8(scalar.value)
        return Names.isAlphanumeric(byte) || "-._~%!$&'()*+,;=:@".unicodeScalars.contains(scalar)
    }
}
