public import EnvoyAPI
import SwiftProtobuf
import XDSCache

/// One simulated Envoy on a state-of-the-world ADS stream, as a plain state machine: it asks in
/// Envoy's order (CDS; EDS for the EDS clusters it got; LDS once those have endpoints; RDS for
/// the route configurations its listeners name), ACKs every response, and re-subscribes when
/// the names it needs change. The caller sends the requests it returns.
public struct SimulatedEnvoy: SimulatedProxy {
    public typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
    public typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    public let node: Envoy_Config_Core_V3_Node
    private var names: [ResourceType: [String]] = [:]
    private var lastNonce: [ResourceType: String] = [:]
    private var received: Set<ResourceType> = []
    private var listenersRequested = false
    /// Bytes of every response received.
    public private(set) var bytesReceived = 0

    public init(node: Envoy_Config_Core_V3_Node) {
        self.node = node
    }

    /// Every type has had a response (RDS only when the listeners name route configurations).
    public var isSynced: Bool {
        Self.isSynced(
            received: received, asksEndpoints: !(names[.endpoint] ?? []).isEmpty, asksRoutes: !(names[.route] ?? []).isEmpty)
    }

    /// The first request of the stream.
    public mutating func start() -> [Request] {
        [request(.cluster, names: [])]
    }

    /// Handles one response: its ACK, and any new subscription it causes.
    public mutating func receive(_ response: Response) throws -> [Request] {
        guard let type = ResourceType(rawValue: response.typeURL) else { return [] }
        // What went over the wire, near enough: the resources plus the response's own strings.
        bytesReceived += response.resources.reduce(0) { $0 + $1.value.count + $1.typeURL.utf8.count + 8 }
            + response.versionInfo.utf8.count + response.nonce.utf8.count + response.typeURL.utf8.count
        received.insert(type)
        lastNonce[type] = response.nonce
        var requests = [ack(type, version: response.versionInfo)]
        switch type {
        case .cluster:
            var edsClusters: [String] = []
            for any in response.resources {
                let cluster = try ClusterSummary(serialized: any.value)
                if cluster.isEDS { edsClusters.append(cluster.name) }
            }
            requests += resubscribe(.endpoint, to: edsClusters.sorted())
            if !listenersRequested && (edsClusters.isEmpty || received.contains(.endpoint)) {
                listenersRequested = true
                requests.append(request(.listener, names: []))
            }
        case .endpoint:
            if !listenersRequested && received.contains(.cluster) {
                listenersRequested = true
                requests.append(request(.listener, names: []))
            }
        case .listener:
            var routes: Set<String> = []
            for any in response.resources {
                let listener = try Envoy_Config_Listener_V3_Listener(serializedBytes: any.value)
                routes.formUnion(listener.routeConfigurationNames)
            }
            requests += resubscribe(.route, to: routes.sorted())
        case .route, .secret:
            break
        }
        return requests
    }

    private mutating func resubscribe(_ type: ResourceType, to wanted: [String]) -> [Request] {
        guard wanted != names[type] ?? [] else { return [] }
        names[type] = wanted
        return [request(type, names: wanted)]
    }

    private func ack(_ type: ResourceType, version: String) -> Request {
        var ack = request(type, names: names[type] ?? [])
        ack.versionInfo = version
        return ack
    }

    private func request(_ type: ResourceType, names: [String]) -> Request {
        var request = Request()
        request.node = node
        request.typeURL = type.typeURL
        request.resourceNames = names
        request.responseNonce = lastNonce[type] ?? ""
        return request
    }
}

extension SimulatedProxy {
    /// Envoy's readiness: CDS and LDS answered, EDS once it asks for endpoints, RDS once its
    /// listeners name route configurations.
    static func isSynced(received: Set<ResourceType>, asksEndpoints: Bool, asksRoutes: Bool) -> Bool {
        received.isSuperset(of: [.cluster, .listener]) && (!asksEndpoints || received.contains(.endpoint))
            && (!asksRoutes || received.contains(.route))
    }
}

/// A simulated Envoy of either ADS flavour, as the load generator drives it.
public protocol SimulatedProxy: Sendable {
    associatedtype Request: Sendable
    associatedtype Response: Sendable

    init(node: Envoy_Config_Core_V3_Node)
    /// Every subscribed type has had a response.
    var isSynced: Bool { get }
    /// Bytes of every response received.
    var bytesReceived: Int { get }
    /// The first requests of the stream.
    mutating func start() -> [Request]
    /// Handles one response: its ACK, and any change of subscription it causes.
    mutating func receive(_ response: Response) throws -> [Request]
}
