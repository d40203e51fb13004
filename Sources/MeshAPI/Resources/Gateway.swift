/// `networking.istio.io` Gateway: listeners on the gateway proxies picked by `selector`.
public struct Gateway: Sendable, Equatable {
    /// Labels of the gateway pods (a plain label map, not `matchLabels`).
    public var selector: [String: String]
    public var servers: [Server]

    public init(selector: [String: String] = [:], servers: [Server] = []) {
        self.selector = selector
        self.servers = servers
    }

    /// One listener: a port, the hosts it serves and how it terminates TLS.
    public struct Server: Sendable, Equatable {
        public var port: Port
        public var bind: String?
        /// `host` or `namespace/host`; `*` and `*.suffix` wildcards allowed.
        public var hosts: [String]
        public var tls: ServerTLSSettings?
        public var name: String?

        public init(port: Port, bind: String? = nil, hosts: [String] = [], tls: ServerTLSSettings? = nil, name: String? = nil) {
            self.port = port
            self.bind = bind
            self.hosts = hosts
            self.tls = tls
            self.name = name
        }
    }
}

/// A port a gateway listens on. `protocol` and `name` are required in YAML.
public struct Port: Sendable, Equatable {
    public var number: UInt32
    public var `protocol`: PortProtocol
    public var name: String
    /// Accepted for compatibility; has no effect on gateways.
    public var targetPort: UInt32?

    public init(number: UInt32, protocol: PortProtocol, name: String, targetPort: UInt32? = nil) {
        self.number = number
        self.protocol = `protocol`
        self.name = name
        self.targetPort = targetPort
    }
}

/// TLS a gateway (or sidecar ingress) terminates or passes through.
public struct ServerTLSSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        case passthrough = "PASSTHROUGH"
        case simple = "SIMPLE"
        case mutual = "MUTUAL"
        case autoPassthrough = "AUTO_PASSTHROUGH"
        case istioMutual = "ISTIO_MUTUAL"
        case optionalMutual = "OPTIONAL_MUTUAL"
    }

    public enum ProtocolVersion: String, Sendable, CaseIterable, Comparable {
        case auto = "TLS_AUTO"
        case v1_0 = "TLSV1_0"
        case v1_1 = "TLSV1_1"
        case v1_2 = "TLSV1_2"
        case v1_3 = "TLSV1_3"

        public static func < (lhs: ProtocolVersion, rhs: ProtocolVersion) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var httpsRedirect: Bool?
    /// Istio's default when `mode` is left out is `PASSTHROUGH`.
    public var mode: Mode
    public var credentialName: String?
    public var serverCertificate: String?
    public var privateKey: String?
    public var caCertificates: String?
    public var subjectAltNames: [String]
    public var minProtocolVersion: ProtocolVersion?
    public var maxProtocolVersion: ProtocolVersion?
    public var cipherSuites: [String]

    public init(
        httpsRedirect: Bool? = nil, mode: Mode = .passthrough, credentialName: String? = nil,
        serverCertificate: String? = nil, privateKey: String? = nil, caCertificates: String? = nil,
        subjectAltNames: [String] = [], minProtocolVersion: ProtocolVersion? = nil,
        maxProtocolVersion: ProtocolVersion? = nil, cipherSuites: [String] = []
    ) {
        self.httpsRedirect = httpsRedirect
        self.mode = mode
        self.credentialName = credentialName
        self.serverCertificate = serverCertificate
        self.privateKey = privateKey
        self.caCertificates = caCertificates
        self.subjectAltNames = subjectAltNames
        self.minProtocolVersion = minProtocolVersion
        self.maxProtocolVersion = maxProtocolVersion
        self.cipherSuites = cipherSuites
    }
}
