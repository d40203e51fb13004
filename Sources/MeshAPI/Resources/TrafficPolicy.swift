/// Traffic settings for a destination; `portLevelSettings` override them per port.
public struct TrafficPolicy: Sendable, Equatable {
    /// The same settings, for one port of the destination.
    public struct PortTrafficPolicy: Sendable, Equatable {
        /// The `port.number` of the YAML.
        public var port: UInt32?
        public var loadBalancer: LoadBalancerSettings?
        public var connectionPool: ConnectionPoolSettings?
        public var outlierDetection: OutlierDetection?
        public var tls: ClientTLSSettings?

        public init(
            port: UInt32? = nil, loadBalancer: LoadBalancerSettings? = nil,
            connectionPool: ConnectionPoolSettings? = nil, outlierDetection: OutlierDetection? = nil,
            tls: ClientTLSSettings? = nil
        ) {
            self.port = port
            self.loadBalancer = loadBalancer
            self.connectionPool = connectionPool
            self.outlierDetection = outlierDetection
            self.tls = tls
        }
    }

    public var loadBalancer: LoadBalancerSettings?
    public var connectionPool: ConnectionPoolSettings?
    public var outlierDetection: OutlierDetection?
    public var tls: ClientTLSSettings?
    public var portLevelSettings: [PortTrafficPolicy]

    public init(
        loadBalancer: LoadBalancerSettings? = nil, connectionPool: ConnectionPoolSettings? = nil,
        outlierDetection: OutlierDetection? = nil, tls: ClientTLSSettings? = nil,
        portLevelSettings: [PortTrafficPolicy] = []
    ) {
        self.loadBalancer = loadBalancer
        self.connectionPool = connectionPool
        self.outlierDetection = outlierDetection
        self.tls = tls
        self.portLevelSettings = portLevelSettings
    }
}

/// Load-balancing algorithm: `simple` or `consistentHash` (at most one), plus slow start.
public struct LoadBalancerSettings: Sendable, Equatable {
    public enum SimpleLB: String, Sendable, CaseIterable {
        case unspecified = "UNSPECIFIED"
        case roundRobin = "ROUND_ROBIN"
        /// Also written `LEAST_CONN`, Istio's deprecated alias.
        case leastRequest = "LEAST_REQUEST"
        case random = "RANDOM"
        case passthrough = "PASSTHROUGH"
    }

    public var simple: SimpleLB?
    public var consistentHash: ConsistentHashLB?
    public var warmup: WarmupConfiguration?

    public init(simple: SimpleLB? = nil, consistentHash: ConsistentHashLB? = nil, warmup: WarmupConfiguration? = nil) {
        self.simple = simple
        self.consistentHash = consistentHash
        self.warmup = warmup
    }
}

/// Session affinity by hashing one request property (at most one of the four hash keys is set).
public struct ConsistentHashLB: Sendable, Equatable {
    public struct HTTPCookie: Sendable, Equatable {
        public var name: String
        public var path: String?
        /// Lifetime of a generated cookie; 0 makes it a session cookie.
        public var ttl: IstioDuration?

        public init(name: String, path: String? = nil, ttl: IstioDuration? = nil) {
            self.name = name
            self.path = path
            self.ttl = ttl
        }
    }

    public struct RingHash: Sendable, Equatable {
        public var minimumRingSize: UInt64?

        public init(minimumRingSize: UInt64? = nil) {
            self.minimumRingSize = minimumRingSize
        }
    }

    public var httpHeaderName: String?
    public var httpCookie: HTTPCookie?
    public var useSourceIp: Bool?
    public var httpQueryParameterName: String?
    /// Deprecated form of `ringHash.minimumRingSize`.
    public var minimumRingSize: UInt64?
    public var ringHash: RingHash?

    public init(
        httpHeaderName: String? = nil, httpCookie: HTTPCookie? = nil, useSourceIp: Bool? = nil,
        httpQueryParameterName: String? = nil, minimumRingSize: UInt64? = nil, ringHash: RingHash? = nil
    ) {
        self.httpHeaderName = httpHeaderName
        self.httpCookie = httpCookie
        self.useSourceIp = useSourceIp
        self.httpQueryParameterName = httpQueryParameterName
        self.minimumRingSize = minimumRingSize
        self.ringHash = ringHash
    }
}

/// Slow start: new endpoints get a growing share of traffic over `duration`.
public struct WarmupConfiguration: Sendable, Equatable {
    public var duration: IstioDuration
    /// Share (0–100) a new endpoint starts with.
    public var minimumPercent: Double?
    /// Curve of the increase; 1 is linear.
    public var aggression: Double?

    public init(duration: IstioDuration, minimumPercent: Double? = nil, aggression: Double? = nil) {
        self.duration = duration
        self.minimumPercent = minimumPercent
        self.aggression = aggression
    }
}

/// Limits on connections and requests to each upstream host (Envoy circuit breakers).
public struct ConnectionPoolSettings: Sendable, Equatable {
    public struct TCPSettings: Sendable, Equatable {
        public struct TcpKeepalive: Sendable, Equatable {
            public var probes: UInt32?
            public var time: IstioDuration?
            public var interval: IstioDuration?

            public init(probes: UInt32? = nil, time: IstioDuration? = nil, interval: IstioDuration? = nil) {
                self.probes = probes
                self.time = time
                self.interval = interval
            }
        }

        public var maxConnections: Int32?
        public var connectTimeout: IstioDuration?
        public var tcpKeepalive: TcpKeepalive?

        public init(maxConnections: Int32? = nil, connectTimeout: IstioDuration? = nil, tcpKeepalive: TcpKeepalive? = nil) {
            self.maxConnections = maxConnections
            self.connectTimeout = connectTimeout
            self.tcpKeepalive = tcpKeepalive
        }
    }

    public struct HTTPSettings: Sendable, Equatable {
        public enum H2UpgradePolicy: String, Sendable, CaseIterable {
            case `default` = "DEFAULT"
            case doNotUpgrade = "DO_NOT_UPGRADE"
            case upgrade = "UPGRADE"
        }

        /// HTTP/2 PING keepalive on upstream connections.
        public struct HTTP2KeepAlive: Sendable, Equatable {
            public var interval: IstioDuration?
            public var timeout: IstioDuration?

            public init(interval: IstioDuration? = nil, timeout: IstioDuration? = nil) {
                self.interval = interval
                self.timeout = timeout
            }
        }

        public var http1MaxPendingRequests: Int32?
        public var http2MaxRequests: Int32?
        public var maxRequestsPerConnection: Int32?
        public var maxRetries: Int32?
        public var idleTimeout: IstioDuration?
        public var h2UpgradePolicy: H2UpgradePolicy?
        public var useClientProtocol: Bool?
        public var maxConcurrentStreams: Int32?
        public var http2KeepAlive: HTTP2KeepAlive?

        public init(
            http1MaxPendingRequests: Int32? = nil, http2MaxRequests: Int32? = nil,
            maxRequestsPerConnection: Int32? = nil, maxRetries: Int32? = nil, idleTimeout: IstioDuration? = nil,
            h2UpgradePolicy: H2UpgradePolicy? = nil, useClientProtocol: Bool? = nil,
            maxConcurrentStreams: Int32? = nil, http2KeepAlive: HTTP2KeepAlive? = nil
        ) {
            self.http1MaxPendingRequests = http1MaxPendingRequests
            self.http2MaxRequests = http2MaxRequests
            self.maxRequestsPerConnection = maxRequestsPerConnection
            self.maxRetries = maxRetries
            self.idleTimeout = idleTimeout
            self.h2UpgradePolicy = h2UpgradePolicy
            self.useClientProtocol = useClientProtocol
            self.maxConcurrentStreams = maxConcurrentStreams
            self.http2KeepAlive = http2KeepAlive
        }
    }

    public var tcp: TCPSettings?
    public var http: HTTPSettings?

    public init(tcp: TCPSettings? = nil, http: HTTPSettings? = nil) {
        self.tcp = tcp
        self.http = http
    }
}

/// Ejects hosts that keep failing from the load-balancing pool for a while.
public struct OutlierDetection: Sendable, Equatable {
    public var consecutive5xxErrors: UInt32?
    public var consecutiveGatewayErrors: UInt32?
    public var interval: IstioDuration?
    public var baseEjectionTime: IstioDuration?
    public var maxEjectionPercent: Int32?
    public var minHealthPercent: Int32?
    public var consecutiveLocalOriginFailures: UInt32?
    public var splitExternalLocalOriginErrors: Bool?

    public init(
        consecutive5xxErrors: UInt32? = nil, consecutiveGatewayErrors: UInt32? = nil, interval: IstioDuration? = nil,
        baseEjectionTime: IstioDuration? = nil, maxEjectionPercent: Int32? = nil, minHealthPercent: Int32? = nil,
        consecutiveLocalOriginFailures: UInt32? = nil, splitExternalLocalOriginErrors: Bool? = nil
    ) {
        self.consecutive5xxErrors = consecutive5xxErrors
        self.consecutiveGatewayErrors = consecutiveGatewayErrors
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
        self.minHealthPercent = minHealthPercent
        self.consecutiveLocalOriginFailures = consecutiveLocalOriginFailures
        self.splitExternalLocalOriginErrors = splitExternalLocalOriginErrors
    }
}

/// TLS the proxy originates towards the upstream.
public struct ClientTLSSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        case disable = "DISABLE"
        case simple = "SIMPLE"
        case mutual = "MUTUAL"
        case istioMutual = "ISTIO_MUTUAL"
    }

    /// Istio's default when `mode` is left out is `DISABLE`.
    public var mode: Mode
    public var sni: String?
    public var subjectAltNames: [String]
    public var credentialName: String?
    public var caCertificates: String?
    public var clientCertificate: String?
    public var privateKey: String?
    public var insecureSkipVerify: Bool?

    public init(
        mode: Mode = .disable, sni: String? = nil, subjectAltNames: [String] = [], credentialName: String? = nil,
        caCertificates: String? = nil, clientCertificate: String? = nil, privateKey: String? = nil,
        insecureSkipVerify: Bool? = nil
    ) {
        self.mode = mode
        self.sni = sni
        self.subjectAltNames = subjectAltNames
        self.credentialName = credentialName
        self.caCertificates = caCertificates
        self.clientCertificate = clientCertificate
        self.privateKey = privateKey
        self.insecureSkipVerify = insecureSkipVerify
    }
}
