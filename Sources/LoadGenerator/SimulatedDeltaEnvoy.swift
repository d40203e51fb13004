public import EnvoyAPI
import SwiftProtobuf
import XDSCache

/// One simulated Envoy on an incremental (delta) ADS stream: the same order as
/// ``SimulatedEnvoy`` (CDS as a wildcard; EDS for its EDS clusters; LDS once those have
/// endpoints; RDS for the route configurations its listeners name), but it subscribes and
/// unsubscribes by difference, tracks what it has by name, and ACKs with the nonce alone.
public struct SimulatedDeltaEnvoy: SimulatedProxy {
    public typealias Request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
    public typealias Response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

    public let node: Envoy_Config_Core_V3_Node
    private var edsClusters: Set<String> = []
    private var routeNamesByListener: [String: Set<String>] = [:]
    private var subscribed: [ResourceType: Set<String>] = [:]
    private var received: Set<ResourceType> = []
    private var listenersRequested = false
    public private(set) var bytesReceived = 0

    public init(node: Envoy_Config_Core_V3_Node) {
        self.node = node
    }

    public var isSynced: Bool {
        Self.isSynced(
            received: received, asksEndpoints: !(subscribed[.endpoint] ?? []).isEmpty,
            asksRoutes: !(subscribed[.route] ?? []).isEmpty)
    }

    public mutating func start() -> [Request] {
        [request(.cluster)]
    }

    public mutating func receive(_ response: Response) throws -> [Request] {
        guard let type = ResourceType(rawValue: response.typeURL) else { return [] }
        bytesReceived += response.resources.reduce(0) {
            $0 + $1.resource.value.count + $1.name.utf8.count + $1.version.utf8.count + 16
        } + response.removedResources.reduce(0) { $0 + $1.utf8.count } + response.nonce.utf8.count
        received.insert(type)
        var ack = request(type)
        ack.responseNonce = response.nonce
        var requests = [ack]
        switch type {
        case .cluster:
            for resource in response.resources {
                let cluster = try ClusterSummary(serialized: resource.resource.value)
                if cluster.isEDS { edsClusters.insert(cluster.name) } else { edsClusters.remove(cluster.name) }
            }
            edsClusters.subtract(response.removedResources)
            requests += resubscribe(.endpoint, to: edsClusters)
            if !listenersRequested && (edsClusters.isEmpty || received.contains(.endpoint)) {
                listenersRequested = true
                requests.append(request(.listener))
            }
        case .endpoint:
            if !listenersRequested && received.contains(.cluster) {
                listenersRequested = true
                requests.append(request(.listener))
            }
        case .listener:
            for resource in response.resources {
                let listener = try Envoy_Config_Listener_V3_Listener(serializedBytes: resource.resource.value)
                routeNamesByListener[resource.name] = listener.routeConfigurationNames
            }
            for name in response.removedResources { routeNamesByListener[name] = nil }
            requests += resubscribe(.route, to: routeNamesByListener.values.reduce(into: Set()) { $0.formUnion($1) })
        case .route, .secret:
            break
        }
        return requests
    }

    private mutating func resubscribe(_ type: ResourceType, to wanted: Set<String>) -> [Request] {
        let current = subscribed[type] ?? []
        guard wanted != current else { return [] }
        subscribed[type] = wanted
        var change = request(type)
        change.resourceNamesSubscribe = wanted.subtracting(current).sorted()
        change.resourceNamesUnsubscribe = current.subtracting(wanted).sorted()
        return [change]
    }

    private func request(_ type: ResourceType) -> Request {
        var request = Request()
        request.node = node
        request.typeURL = type.typeURL
        return request
    }
}
