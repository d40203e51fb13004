/// The xDS resource types Trellis serves, in the order a push sends them: clusters before the
/// endpoints they load, listeners before the route configurations they name, and secrets last
/// (Envoy asks for those by name once a cluster or listener refers to them).
public enum ResourceType: String, Sendable, CaseIterable, Comparable {
    case cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    case endpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    case listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    case route = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    case secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

    /// The type URL Envoy puts in `DiscoveryRequest.type_url`.
    public var typeURL: String { rawValue }

    /// Short name used in logs and status output ("CDS", "EDS", ...).
    public var shortName: String {
        switch self {
        case .cluster: "CDS"
        case .endpoint: "EDS"
        case .listener: "LDS"
        case .route: "RDS"
        case .secret: "SDS"
        }
    }

    /// State-of-the-world responses for these types must carry every resource: a missing
    /// listener or cluster is a removal. The other types are requested by name and a response
    /// may carry only the resources that changed.
    public var isFullState: Bool { self == .cluster || self == .listener }

    public static func < (lhs: ResourceType, rhs: ResourceType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
