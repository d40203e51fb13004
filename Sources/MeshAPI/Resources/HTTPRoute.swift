/// One HTTP rule of a VirtualService: when `match` holds (any entry; none means always), either
/// forward to `route`, answer with `redirect`, or answer with `directResponse`.
public struct HTTPRoute: Sendable, Equatable {
    public var name: String?
    public var match: [HTTPMatchRequest]
    public var route: [HTTPRouteDestination]
    public var redirect: HTTPRedirect?
    public var directResponse: HTTPDirectResponse?
    public var rewrite: HTTPRewrite?
    public var timeout: IstioDuration?
    public var retries: HTTPRetry?
    public var fault: HTTPFaultInjection?
    /// Deprecated single mirror; `mirrorPercentage` applies to it.
    public var mirror: Destination?
    public var mirrors: [HTTPMirrorPolicy]
    /// Percent (0–100) of requests mirrored to `mirror`; nil means 100.
    public var mirrorPercentage: Double?
    public var corsPolicy: CorsPolicy?
    public var headers: Headers?

    public init(
        name: String? = nil, match: [HTTPMatchRequest] = [], route: [HTTPRouteDestination] = [],
        redirect: HTTPRedirect? = nil, directResponse: HTTPDirectResponse? = nil, rewrite: HTTPRewrite? = nil,
        timeout: IstioDuration? = nil, retries: HTTPRetry? = nil, fault: HTTPFaultInjection? = nil,
        mirror: Destination? = nil, mirrors: [HTTPMirrorPolicy] = [], mirrorPercentage: Double? = nil,
        corsPolicy: CorsPolicy? = nil, headers: Headers? = nil
    ) {
        self.name = name
        self.match = match
        self.route = route
        self.redirect = redirect
        self.directResponse = directResponse
        self.rewrite = rewrite
        self.timeout = timeout
        self.retries = retries
        self.fault = fault
        self.mirror = mirror
        self.mirrors = mirrors
        self.mirrorPercentage = mirrorPercentage
        self.corsPolicy = corsPolicy
        self.headers = headers
    }
}

/// How a string is matched. An empty match object (`{}`) in YAML decodes as `.prefix("")`,
/// which matches any value: for headers and query parameters that means "present".
public enum StringMatch: Sendable, Equatable {
    case exact(String)
    case prefix(String)
    /// An RE2 regular expression that must match the whole value.
    case regex(String)
}

/// Conditions on an HTTP request; all set fields must hold.
public struct HTTPMatchRequest: Sendable, Equatable {
    public var name: String?
    public var uri: StringMatch?
    public var scheme: StringMatch?
    public var method: StringMatch?
    public var authority: StringMatch?
    /// Lower-case header names to matches.
    public var headers: [String: StringMatch]
    public var port: UInt32?
    public var sourceLabels: [String: String]
    public var gateways: [String]
    public var queryParams: [String: StringMatch]
    public var ignoreUriCase: Bool?
    /// Headers that must not match (or, for `.prefix("")`, must be absent).
    public var withoutHeaders: [String: StringMatch]
    public var sourceNamespace: String?

    public init(
        name: String? = nil, uri: StringMatch? = nil, scheme: StringMatch? = nil, method: StringMatch? = nil,
        authority: StringMatch? = nil, headers: [String: StringMatch] = [:], port: UInt32? = nil,
        sourceLabels: [String: String] = [:], gateways: [String] = [], queryParams: [String: StringMatch] = [:],
        ignoreUriCase: Bool? = nil, withoutHeaders: [String: StringMatch] = [:], sourceNamespace: String? = nil
    ) {
        self.name = name
        self.uri = uri
        self.scheme = scheme
        self.method = method
        self.authority = authority
        self.headers = headers
        self.port = port
        self.sourceLabels = sourceLabels
        self.gateways = gateways
        self.queryParams = queryParams
        self.ignoreUriCase = ignoreUriCase
        self.withoutHeaders = withoutHeaders
        self.sourceNamespace = sourceNamespace
    }
}

/// A weighted destination of an HTTP route, with header changes for traffic sent there.
public struct HTTPRouteDestination: Sendable, Equatable {
    public var destination: Destination
    /// Relative share of the traffic; 0 (unset) with a single destination means all of it.
    public var weight: Int32
    public var headers: Headers?

    public init(destination: Destination, weight: Int32 = 0, headers: Headers? = nil) {
        self.destination = destination
        self.weight = weight
        self.headers = headers
    }
}

/// Answer with a redirect built from the request and these replacements.
public struct HTTPRedirect: Sendable, Equatable {
    public var uri: String?
    public var authority: String?
    public var port: UInt32?
    /// `http` or `https`.
    public var scheme: String?
    /// 3xx; nil means 301.
    public var redirectCode: UInt32?

    public init(
        uri: String? = nil, authority: String? = nil, port: UInt32? = nil, scheme: String? = nil,
        redirectCode: UInt32? = nil
    ) {
        self.uri = uri
        self.authority = authority
        self.port = port
        self.scheme = scheme
        self.redirectCode = redirectCode
    }
}

/// Answer directly with a status and an optional body.
public struct HTTPDirectResponse: Sendable, Equatable {
    public var status: UInt32
    /// The `body.string` of the YAML.
    public var body: String?

    public init(status: UInt32, body: String? = nil) {
        self.status = status
        self.body = body
    }
}

/// Rewrites applied before forwarding.
public struct HTTPRewrite: Sendable, Equatable {
    /// Replaces the matched path prefix (or the whole path for an exact match).
    public var uri: String?
    public var authority: String?
    public var uriRegexRewrite: RegexRewrite?

    public init(uri: String? = nil, authority: String? = nil, uriRegexRewrite: RegexRewrite? = nil) {
        self.uri = uri
        self.authority = authority
        self.uriRegexRewrite = uriRegexRewrite
    }
}

/// Replace RE2 `match` in the path with `rewrite` (which may use `\1`-style groups).
public struct RegexRewrite: Sendable, Equatable {
    public var match: String
    public var rewrite: String

    public init(match: String, rewrite: String) {
        self.match = match
        self.rewrite = rewrite
    }
}

/// Retry policy. `attempts` counts retries after the first try.
public struct HTTPRetry: Sendable, Equatable {
    public var attempts: Int32
    public var perTryTimeout: IstioDuration?
    /// Comma-separated Envoy retry conditions and/or status codes.
    public var retryOn: String?
    public var retryRemoteLocalities: Bool?

    public init(
        attempts: Int32 = 0, perTryTimeout: IstioDuration? = nil, retryOn: String? = nil,
        retryRemoteLocalities: Bool? = nil
    ) {
        self.attempts = attempts
        self.perTryTimeout = perTryTimeout
        self.retryOn = retryOn
        self.retryRemoteLocalities = retryRemoteLocalities
    }
}

/// Faults injected on the client side.
public struct HTTPFaultInjection: Sendable, Equatable {
    public struct Delay: Sendable, Equatable {
        public var fixedDelay: IstioDuration?
        /// Percent (0–100) of requests delayed; the `percentage.value` of the YAML.
        public var percentage: Double?
        /// Deprecated integer percent, used when `percentage` is absent.
        public var percent: Int32?

        public init(fixedDelay: IstioDuration? = nil, percentage: Double? = nil, percent: Int32? = nil) {
            self.fixedDelay = fixedDelay
            self.percentage = percentage
            self.percent = percent
        }
    }

    public struct Abort: Sendable, Equatable {
        public var httpStatus: Int32?
        /// A gRPC status name such as `UNAVAILABLE`.
        public var grpcStatus: String?
        /// Percent (0–100) of requests aborted; the `percentage.value` of the YAML.
        public var percentage: Double?

        public init(httpStatus: Int32? = nil, grpcStatus: String? = nil, percentage: Double? = nil) {
            self.httpStatus = httpStatus
            self.grpcStatus = grpcStatus
            self.percentage = percentage
        }
    }

    public var delay: Delay?
    public var abort: Abort?

    public init(delay: Delay? = nil, abort: Abort? = nil) {
        self.delay = delay
        self.abort = abort
    }
}

/// Mirror a percentage of requests to another destination.
public struct HTTPMirrorPolicy: Sendable, Equatable {
    public var destination: Destination
    /// Percent (0–100); nil means 100.
    public var percentage: Double?

    public init(destination: Destination, percentage: Double? = nil) {
        self.destination = destination
        self.percentage = percentage
    }
}

/// Cross-origin resource sharing.
public struct CorsPolicy: Sendable, Equatable {
    public var allowOrigins: [StringMatch]
    public var allowMethods: [String]
    public var allowHeaders: [String]
    public var exposeHeaders: [String]
    /// Whole seconds.
    public var maxAge: IstioDuration?
    public var allowCredentials: Bool?

    public init(
        allowOrigins: [StringMatch] = [], allowMethods: [String] = [], allowHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAge: IstioDuration? = nil, allowCredentials: Bool? = nil
    ) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
        self.allowCredentials = allowCredentials
    }
}

/// Header changes for requests (before forwarding) and responses (before returning).
public struct Headers: Sendable, Equatable {
    public var request: HeaderOperations?
    public var response: HeaderOperations?

    public init(request: HeaderOperations? = nil, response: HeaderOperations? = nil) {
        self.request = request
        self.response = response
    }
}

/// `set` overwrites, `add` appends, `remove` deletes.
public struct HeaderOperations: Sendable, Equatable {
    public var set: [String: String]
    public var add: [String: String]
    public var remove: [String]

    public init(set: [String: String] = [:], add: [String: String] = [:], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }
}
