/// HTTP header-name rules (Istio's `ValidateHTTPHeader...` family).
enum HeaderNames {
    /// `^[-_A-Za-z0-9]+$`.
    static func isValid(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { Names.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    static func isJWTClaim(_ name: String) -> Bool { name.hasPrefix("@request.auth.claims") }

    /// A header to match on, or a JWT claim (`@request.auth.claims.sub`, `@request.auth.claims[a][b]`).
    static func matchProblem(_ name: String) -> String? {
        if isJWTClaim(name) {
            let rest = name.dropFirst("@request.auth.claims".count)
            let valid = (rest.hasPrefix(".") && rest.count > 1) || (rest.hasPrefix("[") && rest.hasSuffix("]") && rest.count > 2)
            return valid ? nil : "invalid JWT claim routing key \"\(name)\""
        }
        return plainProblem(name)
    }

    private static func plainProblem(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        return isValid(name) ? nil : "header name \(name) is not a valid header name"
    }

    /// A header a rule removes, or sets on responses: Host and pseudo-headers are off limits.
    static func operationProblem(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if name.lowercased() == "host" { return "invalid header \"\(name)\": cannot set Host header" }
        if name.hasPrefix(":") { return "invalid header \"\(name)\": header cannot have \":\" prefix" }
        return plainProblem(name)
    }

    /// A request header a rule sets or adds: `host` / `:authority` are allowed (a host rewrite).
    static func requestSetProblem(_ name: String) -> String? {
        if isAuthority(name) { return nil }
        if name.hasPrefix(":") { return "invalid header \"\(name)\": header cannot have \":\" prefix" }
        return plainProblem(name)
    }

    static func isAuthority(_ name: String) -> Bool {
        name.lowercased() == "host" || name.lowercased() == ":authority"
    }

    /// Header operations of a route or a destination.
    static func check(_ headers: Headers?, at path: String, _ report: DocumentContext) {
        guard let headers else { return }
        if let request = headers.request {
            for name in Array(request.set.keys).sorted() {
                if let problem = requestSetProblem(name) { report.error("\(path).request.set", problem) }
            }
            for name in Array(request.add.keys).sorted() {
                if let problem = requestSetProblem(name) { report.error("\(path).request.add", problem) }
            }
            for (index, name) in request.remove.enumerated() {
                if let problem = operationProblem(name) { report.error("\(path).request.remove[\(index)]", problem) }
            }
        }
        if let response = headers.response {
            for name in Array(response.set.keys).sorted() {
                if let problem = operationProblem(name) { report.error("\(path).response.set", problem) }
            }
            for name in Array(response.add.keys).sorted() {
                if let problem = operationProblem(name) { report.error("\(path).response.add", problem) }
            }
            for (index, name) in response.remove.enumerated() {
                if let problem = operationProblem(name) { report.error("\(path).response.remove[\(index)]", problem) }
            }
        }
    }
}

/// String matches and destinations, shared by HTTP, TCP and TLS routes.
enum RouteChecks {
    /// Istio's `validateStringMatchRegexp` (uri, headers, query parameters): only a regex is checked.
    static func checkRegex(_ match: StringMatch?, at path: String, _ report: DocumentContext) {
        guard case .regex(let regex)? = match else { return }
        if regex.isEmpty {
            report.error("\(path).regex", "regex string match should not be empty")
        } else if let problem = RE2.problem(regex) {
            report.error("\(path).regex", problem)
        }
    }

    /// Istio's `validateStringMatch` (scheme, method, authority): also no empty prefix.
    static func checkStringMatch(_ match: StringMatch?, at path: String, _ report: DocumentContext) {
        if case .prefix("")? = match {
            report.error("\(path).prefix", "prefix string match should not be empty")
        }
        checkRegex(match, at: path, report)
    }

    /// Istio's `validateDestination`.
    static func checkDestination(_ destination: Destination, at path: String, _ report: DocumentContext) {
        if destination.host == "*" {
            report.error("\(path).host", "invalid destination host *")
        } else if let problem = Names.wildcardDomainProblem(destination.host) {
            report.error("\(path).host", problem)
        }
        if let subset = destination.subset {
            if subset.isEmpty {
                report.error("\(path).subset", "subset name cannot be empty")
            } else if !Names.isDNS1123Label(subset) {
                report.error("\(path).subset", "subset name is invalid: \(subset)")
            }
        }
        if let port = destination.port, let problem = CommonChecks.portProblem(port) {
            report.error("\(path).port.number", problem)
        }
    }

    /// Weights are relative shares: none negative, not all zero when there are several.
    /// Not summing to 100 is legal but usually a mistake, so it is a warning.
    static func checkWeights(_ weights: [Int32], at path: String, _ report: DocumentContext) {
        for (index, weight) in weights.enumerated() where weight < 0 {
            report.error("\(path)[\(index)].weight", "weight \(weight) < 0")
        }
        guard weights.count > 1, weights.allSatisfy({ $0 >= 0 }) else { return }
        let total = weights.reduce(Int64(0)) { $0 + Int64($1) }
        if total == 0 {
            report.error(path, "total destination weight = 0")
        } else if total != 100 {
            report.warning(path, "weights sum to \(total), not 100; Istio treats them as relative shares")
        }
    }

    /// Labels and gateways of a match condition, and its source namespace.
    static func checkMatchSource(
        sourceLabels: [String: String], gateways: [String], sourceNamespace: String?, port: UInt32?,
        at path: String, _ report: DocumentContext
    ) {
        if let port, port != 0, let problem = CommonChecks.portProblem(port) { report.error("\(path).port", problem) }
        CommonChecks.checkLabels(sourceLabels, at: "\(path).sourceLabels", report)
        CommonChecks.checkGatewayNames(gateways, at: "\(path).gateways", report)
        if let namespace = sourceNamespace, !Names.isDNS1123Label(namespace) {
            report.error("\(path).sourceNamespace", "sourceNamespace match \(namespace) is invalid")
        }
    }
}
