/// `networking.istio.io` WorkloadEntry: one non-Kubernetes workload (a VM, a process), also the
/// shape of a ServiceEntry's inline endpoints and of a WorkloadGroup's template.
public struct WorkloadEntry: Sendable, Equatable {
    /// An IP, a DNS name, or `unix:///path` / `unix://@abstract`; empty when only `network` is
    /// set (a workload reached through that network's gateway).
    public var address: String
    /// Port name (of the service) to the port the workload listens on.
    public var ports: [String: UInt32]
    public var labels: [String: String]
    public var network: String?
    /// `region/zone/subzone`.
    public var locality: String?
    public var weight: UInt32?
    public var serviceAccount: String?

    public init(
        address: String = "", ports: [String: UInt32] = [:], labels: [String: String] = [:],
        network: String? = nil, locality: String? = nil, weight: UInt32? = nil, serviceAccount: String? = nil
    ) {
        self.address = address
        self.ports = ports
        self.labels = labels
        self.network = network
        self.locality = locality
        self.weight = weight
        self.serviceAccount = serviceAccount
    }

    /// Whether `address` is an IP address (not a DNS name, a Unix socket or empty).
    public var hasIPAddress: Bool { IPAddress.isValid(address) }
}

/// `networking.istio.io` WorkloadGroup: the template for WorkloadEntries that workloads
/// register themselves with, plus how to probe their readiness.
public struct WorkloadGroup: Sendable, Equatable {
    /// Labels and annotations given to every generated WorkloadEntry.
    public struct ObjectMeta: Sendable, Equatable {
        public var labels: [String: String]
        public var annotations: [String: String]

        public init(labels: [String: String] = [:], annotations: [String: String] = [:]) {
            self.labels = labels
            self.annotations = annotations
        }
    }

    public var metadata: ObjectMeta?
    public var template: WorkloadEntry
    public var probe: ReadinessProbe?

    public init(metadata: ObjectMeta? = nil, template: WorkloadEntry = WorkloadEntry(), probe: ReadinessProbe? = nil) {
        self.metadata = metadata
        self.template = template
        self.probe = probe
    }

    /// The WorkloadEntry annotation naming the group (same namespace) an entry was
    /// auto-registered into, as istiod writes it.
    public static let autoRegistrationAnnotation = "istio.io/autoRegistrationGroup"
    /// The WorkloadEntry annotation naming the group (same namespace) an entry was registered
    /// into by `trellis workload register --group`.
    public static let registeredGroupAnnotation = "trellis.dev/workload-group"
}

/// How a workload's readiness is checked: at most one method, plus Kubernetes-style timing. Istio's
/// agent runs it on the workload; Trellis runs it from the control plane, so only `httpGet` and
/// `tcpSocket` pass validation.
public struct ReadinessProbe: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        case httpGet(HTTPGet)
        case tcpSocket(TCPSocket)
        case exec(command: [String])
        case grpc(GRPC)
    }

    public struct HTTPGet: Sendable, Equatable {
        public var path: String?
        public var port: UInt32
        public var host: String?
        /// `HTTP` or `HTTPS`.
        public var scheme: String?
        public var httpHeaders: [Header]

        public init(path: String? = nil, port: UInt32, host: String? = nil, scheme: String? = nil, httpHeaders: [Header] = []) {
            self.path = path
            self.port = port
            self.host = host
            self.scheme = scheme
            self.httpHeaders = httpHeaders
        }
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String = "") {
            self.name = name
            self.value = value
        }
    }

    public struct TCPSocket: Sendable, Equatable {
        public var host: String?
        public var port: UInt32

        public init(host: String? = nil, port: UInt32) {
            self.host = host
            self.port = port
        }
    }

    public struct GRPC: Sendable, Equatable {
        public var port: UInt32
        public var service: String?

        public init(port: UInt32, service: String? = nil) {
            self.port = port
            self.service = service
        }
    }

    public var initialDelaySeconds: Int32?
    public var timeoutSeconds: Int32?
    public var periodSeconds: Int32?
    public var successThreshold: Int32?
    public var failureThreshold: Int32?
    public var method: Method?

    public init(
        initialDelaySeconds: Int32? = nil, timeoutSeconds: Int32? = nil, periodSeconds: Int32? = nil,
        successThreshold: Int32? = nil, failureThreshold: Int32? = nil, method: Method? = nil
    ) {
        self.initialDelaySeconds = initialDelaySeconds
        self.timeoutSeconds = timeoutSeconds
        self.periodSeconds = periodSeconds
        self.successThreshold = successThreshold
        self.failureThreshold = failureThreshold
        self.method = method
    }
}
