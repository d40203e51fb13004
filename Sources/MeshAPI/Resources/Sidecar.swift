/// `networking.istio.io` Sidecar: narrows what the selected proxies (all of the namespace when
/// there is no selector) listen on and which services they can reach.
public struct Sidecar: Sendable, Equatable {
    /// What the proxy does with traffic to hosts outside its registry.
    public struct OutboundTrafficPolicy: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            case registryOnly = "REGISTRY_ONLY"
            case allowAny = "ALLOW_ANY"
        }

        /// Istio's default when `mode` is left out of the block is `REGISTRY_ONLY`.
        public var mode: Mode

        public init(mode: Mode = .registryOnly) {
            self.mode = mode
        }
    }

    public var workloadSelector: WorkloadSelector?
    public var ingress: [IstioIngressListener]
    public var egress: [IstioEgressListener]
    public var outboundTrafficPolicy: OutboundTrafficPolicy?

    public init(
        workloadSelector: WorkloadSelector? = nil, ingress: [IstioIngressListener] = [],
        egress: [IstioEgressListener] = [], outboundTrafficPolicy: OutboundTrafficPolicy? = nil
    ) {
        self.workloadSelector = workloadSelector
        self.ingress = ingress
        self.egress = egress
        self.outboundTrafficPolicy = outboundTrafficPolicy
    }
}

/// How traffic reaches a sidecar listener.
public enum CaptureMode: String, Sendable, CaseIterable {
    case `default` = "DEFAULT"
    case iptables = "IPTABLES"
    case none = "NONE"
}

/// A port of a sidecar listener. A port without `protocol` in YAML decodes as `.tcp`.
public struct SidecarPort: Sendable, Equatable {
    public var number: UInt32
    public var `protocol`: PortProtocol
    public var name: String?
    public var targetPort: UInt32?

    public init(number: UInt32, protocol: PortProtocol = .tcp, name: String? = nil, targetPort: UInt32? = nil) {
        self.number = number
        self.protocol = `protocol`
        self.name = name
        self.targetPort = targetPort
    }
}

/// An inbound listener forwarding to the workload at `defaultEndpoint`.
public struct IstioIngressListener: Sendable, Equatable {
    public var port: SidecarPort
    public var bind: String?
    public var captureMode: CaptureMode?
    /// `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT` or `unix://path`.
    public var defaultEndpoint: String?

    public init(port: SidecarPort, bind: String? = nil, captureMode: CaptureMode? = nil, defaultEndpoint: String? = nil) {
        self.port = port
        self.bind = bind
        self.captureMode = captureMode
        self.defaultEndpoint = defaultEndpoint
    }
}

/// An outbound listener; without `port` it is the catch-all that only limits visible hosts.
public struct IstioEgressListener: Sendable, Equatable {
    public var port: SidecarPort?
    public var bind: String?
    public var captureMode: CaptureMode?
    /// `namespace/dnsName`: namespace `*`, `.` (the Sidecar's own) or `~` (none); dnsName `*`,
    /// `*.suffix` or a host.
    public var hosts: [String]

    public init(port: SidecarPort? = nil, bind: String? = nil, captureMode: CaptureMode? = nil, hosts: [String] = []) {
        self.port = port
        self.bind = bind
        self.captureMode = captureMode
        self.hosts = hosts
    }
}
