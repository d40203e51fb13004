/// Istio's `validateHTTPRoute` and its helpers.
enum HTTPRouteValidation {
    static let corsMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    static let retryOnPolicies: Set<String> = [
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited",
        "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
        "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
        "unavailable",
    ]

    /// The response codes of Envoy's RedirectAction.
    static let redirectCodes: Set<UInt32> = [301, 302, 303, 307, 308]

    static let grpcStatuses: Set<String> = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    static func validate(_ route: HTTPRoute, at path: String, _ report: DocumentContext) {
        checkConflicts(route, at: path, report)
        for (index, match) in route.match.enumerated() {
            checkMatch(match, at: "\(path).match[\(index)]", report)
        }
        HeaderNames.check(route.headers, at: "\(path).headers", report)
        if let cors = route.corsPolicy { checkCors(cors, at: "\(path).corsPolicy", report) }
        if let fault = route.fault { checkFault(fault, at: "\(path).fault", report) }
        if let percentage = route.mirrorPercentage, !(0...100).contains(percentage) {
            report.error("\(path).mirrorPercentage.value", "mirror_percentage must be between 0 and 100 (it has \(percentage))")
        }
        if let mirror = route.mirror { RouteChecks.checkDestination(mirror, at: "\(path).mirror", report) }
        if route.mirror != nil && !route.mirrors.isEmpty {
            report.error("\(path).mirrors", "cannot specify both mirror and mirrors")
        }
        for (index, mirror) in route.mirrors.enumerated() {
            RouteChecks.checkDestination(mirror.destination, at: "\(path).mirrors[\(index)].destination", report)
            if let percentage = mirror.percentage, !(0...100).contains(percentage) {
                report.error(
                    "\(path).mirrors[\(index)].percentage.value",
                    "mirror percentage must be between 0 and 100 (it has \(percentage))")
            }
        }
        if let redirect = route.redirect { checkRedirect(redirect, at: "\(path).redirect", report) }
        if let response = route.directResponse { checkDirectResponse(response, at: "\(path).directResponse", report) }
        if let retries = route.retries { checkRetries(retries, at: "\(path).retries", report) }
        if let rewrite = route.rewrite { checkRewrite(rewrite, headers: route.headers, at: "\(path).rewrite", report) }
        for (index, destination) in route.route.enumerated() {
            let destinationPath = "\(path).route[\(index)]"
            RouteChecks.checkDestination(destination.destination, at: "\(destinationPath).destination", report)
            HeaderNames.check(destination.headers, at: "\(destinationPath).headers", report)
        }
        RouteChecks.checkWeights(route.route.map(\.weight), at: "\(path).route", report)
    }

    /// A rule does exactly one of forwarding, redirecting or answering directly.
    private static func checkConflicts(_ route: HTTPRoute, at path: String, _ report: DocumentContext) {
        if route.redirect != nil {
            if !route.route.isEmpty { report.error(path, "HTTP route cannot contain both route and redirect") }
            if route.fault != nil { report.error(path, "HTTP route cannot contain both fault and redirect") }
            if route.rewrite != nil { report.error(path, "HTTP route rule cannot contain both rewrite and redirect") }
            if route.directResponse != nil { report.error(path, "HTTP route cannot contain both redirect and direct_response") }
        } else if route.route.isEmpty && route.directResponse == nil {
            report.error(path, "HTTP route, redirect or direct_response is required")
        }
        if route.directResponse != nil {
            if !route.route.isEmpty { report.error(path, "HTTP route cannot contain both route and direct_response") }
            if route.fault != nil { report.error(path, "HTTP route cannot contain both fault and direct_response") }
            if route.rewrite != nil { report.error(path, "HTTP route rule cannot contain both rewrite and direct_response") }
        }
    }

    private static func checkMatch(_ match: HTTPMatchRequest, at path: String, _ report: DocumentContext) {
        for (name, value) in match.headers.sorted(by: { $0.key < $1.key }) {
            if let problem = HeaderNames.matchProblem(name) { report.error("\(path).headers", problem) }
            RouteChecks.checkRegex(value, at: FieldPath.entry("\(path).headers", name), report)
        }
        for (name, value) in match.withoutHeaders.sorted(by: { $0.key < $1.key }) {
            if let problem = HeaderNames.matchProblem(name) { report.error("\(path).withoutHeaders", problem) }
            RouteChecks.checkRegex(value, at: FieldPath.entry("\(path).withoutHeaders", name), report)
        }
        RouteChecks.checkRegex(match.uri, at: "\(path).uri", report)
        RouteChecks.checkStringMatch(match.scheme, at: "\(path).scheme", report)
        RouteChecks.checkStringMatch(match.method, at: "\(path).method", report)
        RouteChecks.checkStringMatch(match.authority, at: "\(path).authority", report)
        for (name, value) in match.queryParams.sorted(by: { $0.key < $1.key }) {
            RouteChecks.checkRegex(value, at: FieldPath.entry("\(path).queryParams", name), report)
        }
        RouteChecks.checkMatchSource(
            sourceLabels: match.sourceLabels, gateways: match.gateways, sourceNamespace: match.sourceNamespace,
            port: match.port, at: path, report)
    }

    private static func checkCors(_ cors: CorsPolicy, at path: String, _ report: DocumentContext) {
        for (index, origin) in cors.allowOrigins.enumerated() {
            let originPath = "\(path).allowOrigins[\(index)]"
            switch origin {
            case .exact(let text), .prefix(let text), .regex(let text):
                if text.isEmpty { report.error(originPath, "'' is not a valid match type for CORS allow origins") }
            }
            RouteChecks.checkRegex(origin, at: originPath, report)
        }
        for (index, method) in cors.allowMethods.enumerated() where !corsMethods.contains(method) {
            report.error("\(path).allowMethods[\(index)]", "\"\(method)\" is not a supported HTTP method")
        }
        for (field, names) in [("allowHeaders", cors.allowHeaders), ("exposeHeaders", cors.exposeHeaders)] {
            for (index, name) in names.enumerated() where name != "*" && !HeaderNames.isValid(name) {
                report.error("\(path).\(field)[\(index)]", "header name \(name) is not a valid header name")
            }
        }
    }

    private static func checkFault(_ fault: HTTPFaultInjection, at path: String, _ report: DocumentContext) {
        if fault.abort == nil && fault.delay == nil {
            report.error(path, "HTTP fault injection must have an abort and/or a delay")
        }
        if let abort = fault.abort {
            if let percentage = abort.percentage, let problem = CommonChecks.percentageProblem(percentage) {
                report.error("\(path).abort.percentage.value", problem)
            }
            switch (abort.httpStatus, abort.grpcStatus) {
            case (.some, .some):
                report.error("\(path).abort", "only one of httpStatus or grpcStatus may be set")
            case (let status?, nil):
                if status < 200 || status > 600 {
                    report.error("\(path).abort.httpStatus", "HTTP status \(status) is not in range 200-599")
                }
            case (nil, let status?):
                if !grpcStatuses.contains(status) {
                    report.error("\(path).abort.grpcStatus", "gRPC status \"\(status)\" is not supported")
                }
            case (nil, nil):
                report.warning("\(path).abort", "abort configured, but error type not set")
            }
        }
        if let delay = fault.delay {
            if let percentage = delay.percentage, let problem = CommonChecks.percentageProblem(percentage) {
                report.error("\(path).delay.percentage.value", problem)
            }
            if let percent = delay.percent, let problem = CommonChecks.percentProblem(percent) {
                report.error("\(path).delay.percent", problem)
            }
        }
    }

    private static func checkRedirect(_ redirect: HTTPRedirect, at path: String, _ report: DocumentContext) {
        if redirect.uri == nil && redirect.authority == nil && redirect.port == nil && redirect.scheme == nil {
            report.error(path, "redirect must specify URI, authority, scheme, or port")
        }
        if let code = redirect.redirectCode, code != 0 {
            if !(300...399).contains(code) {
                report.error("\(path).redirectCode", "\(code) is not a valid redirect code, must be 3xx")
            } else if !redirectCodes.contains(code) {
                // Istio accepts any 3xx but then drops the route's action, which Envoy rejects.
                report.error(
                    "\(path).redirectCode",
                    "not supported yet: Envoy redirects only with 301, 302, 303, 307 or 308, not \(code)")
            }
        }
        if let scheme = redirect.scheme, scheme != "http" && scheme != "https" {
            report.error("\(path).scheme", "invalid redirect scheme, must be \"http\" or \"https\"")
        }
        if let port = redirect.port, port != 0, let problem = CommonChecks.portProblem(port) {
            report.error("\(path).port", problem)
        }
    }

    private static func checkDirectResponse(_ response: HTTPDirectResponse, at path: String, _ report: DocumentContext) {
        if response.status < 200 || response.status > 600 {
            report.error("\(path).status", "HTTP status \(response.status) is not in range 200-599")
        }
        if let body = response.body, body.utf8.count > 1 << 20 {
            report.error("\(path).body", "large direct_responses may impact control plane performance, must be less than 1MB")
        }
    }

    private static func checkRetries(_ retries: HTTPRetry, at path: String, _ report: DocumentContext) {
        if retries.attempts < 0 { report.error("\(path).attempts", "attempts cannot be negative") }
        if retries.attempts == 0
            && (retries.perTryTimeout != nil || retries.retryOn != nil || retries.retryRemoteLocalities != nil)
        {
            report.error(path, "http retry policy configured when attempts are set to 0 (disabled)")
        }
        guard let retryOn = retries.retryOn else { return }
        for policy in retryOn.split(separator: ",", omittingEmptySubsequences: false) {
            let name = policy.trimmingSpaces
            if let code = Int(name), HTTPStatus.isKnown(code) { continue }
            if !retryOnPolicies.contains(name) {
                report.error("\(path).retryOn", "\"\(name)\" is not a valid retryOn policy")
            }
        }
    }

    private static func checkRewrite(_ rewrite: HTTPRewrite, headers: Headers?, at path: String, _ report: DocumentContext) {
        if rewrite.uri != nil && rewrite.uriRegexRewrite != nil {
            report.error(path, "rewrite may only contain one of URI or UriRegexRewrite")
        }
        if rewrite.uri == nil && rewrite.uriRegexRewrite == nil && rewrite.authority == nil {
            report.error(path, "rewrite must specify at least one of URI, UriRegexRewrite, or authority")
        }
        if let regex = rewrite.uriRegexRewrite {
            if regex.match.isEmpty || regex.rewrite.isEmpty {
                report.error("\(path).uriRegexRewrite", "UriRegexRewrite requires both Rewrite and Match fields to be specified")
            } else if let problem = RE2.problem(regex.match) {
                report.error("\(path).uriRegexRewrite.match", problem)
            }
        }
        // The authority may be rewritten once: by `rewrite.authority` or by setting the host header.
        var current = rewrite.authority
        for operations in [headers?.request?.set ?? [:], headers?.request?.add ?? [:]] {
            for (name, value) in operations.sorted(by: { $0.key < $1.key }) where HeaderNames.isAuthority(name) {
                if let current {
                    report.error(
                        path, "authority header cannot be set multiple times: have \"\(current)\", attempting to set \"\(value)\"")
                }
                current = value
            }
        }
    }
}

/// HTTP status codes Go's `http.StatusText` knows, which Istio accepts in `retryOn`.
enum HTTPStatus {
    static func isKnown(_ code: Int) -> Bool {
        switch code {
        case 100...103, 200...208, 226, 300...305, 307, 308, 400...418, 421...426, 428, 429, 431, 451, 500...508, 510, 511:
            true
        default:
            false
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
