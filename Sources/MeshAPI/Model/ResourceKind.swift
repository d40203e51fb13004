/// The Istio kinds Trellis reads. `Comparable` follows declaration order, so a sorted config
/// lists services and workloads before the rules that refer to them.
public enum ResourceKind: String, Sendable, CaseIterable, Comparable {
    case serviceEntry = "ServiceEntry"
    case workloadEntry = "WorkloadEntry"
    case workloadGroup = "WorkloadGroup"
    case virtualService = "VirtualService"
    case destinationRule = "DestinationRule"
    case gateway = "Gateway"
    case sidecar = "Sidecar"
    case peerAuthentication = "PeerAuthentication"
    case authorizationPolicy = "AuthorizationPolicy"
    /// Kubernetes' core Secret: gateway TLS credentials (`credentialName`).
    case secret = "Secret"

    /// The API group of the kind, as in `apiVersion: GROUP/VERSION`; empty for the core group
    /// (`apiVersion: v1`).
    public var group: String {
        switch self {
        case .peerAuthentication, .authorizationPolicy: "security.istio.io"
        case .secret: ""
        default: "networking.istio.io"
        }
    }

    /// The API versions accepted for the kind. Istio serves the same schema under each.
    public var versions: [String] {
        switch self {
        case .peerAuthentication, .authorizationPolicy: ["v1", "v1beta1"]
        case .secret: ["v1"]
        default: ["v1", "v1beta1", "v1alpha3"]
        }
    }

    public static func < (lhs: ResourceKind, rhs: ResourceKind) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

/// Identifies one resource across a config set: no two resources may share a key.
/// `description` is `KIND NAMESPACE/NAME`, e.g. `VirtualService default/reviews`.
public struct ResourceKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var kind: ResourceKind
    public var namespace: String
    public var name: String

    public init(kind: ResourceKind, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(kind.rawValue) \(namespace)/\(name)" }

    public static func < (lhs: ResourceKey, rhs: ResourceKey) -> Bool {
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
        if lhs.namespace != rhs.namespace { return lhs.namespace < rhs.namespace }
        return lhs.name < rhs.name
    }
}
