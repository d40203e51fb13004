import EnvoyAPI
import SwiftProtobuf
import XDSCache

typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

/// Builds resources and requests the way a proxy's config and an Envoy's requests look.
enum Fixture {
    static func cluster(_ name: String, timeoutSeconds: Int64 = 10) -> XDSResource {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        cluster.type = .eds
        cluster.connectTimeout.seconds = timeoutSeconds
        return try! XDSResource(.cluster, name: name, message: cluster)
    }

    static func endpoints(_ name: String, port: UInt32) -> XDSResource {
        var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        assignment.clusterName = name
        var socket = Envoy_Config_Core_V3_SocketAddress()
        socket.address = "127.0.0.1"
        socket.portValue = port
        var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
        endpoint.endpoint.address.socketAddress = socket
        var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        group.lbEndpoints = [endpoint]
        assignment.endpoints = [group]
        return try! XDSResource(.endpoint, name: name, message: assignment)
    }

    /// A listener taking its routes from the route configurations `routes` (RDS names).
    static func listener(_ name: String, routes: Set<String> = []) -> XDSResource {
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = name
        return try! XDSResource(.listener, name: name, message: listener, referencedRoutes: routes)
    }

    static func routes(_ name: String, to cluster: String) -> XDSResource {
        var config = Envoy_Config_Route_V3_RouteConfiguration()
        config.name = name
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = cluster
        host.domains = ["*"]
        var route = Envoy_Config_Route_V3_Route()
        route.route.cluster = cluster
        host.routes = [route]
        config.virtualHosts = [host]
        return try! XDSResource(.route, name: name, message: config, referencedClusters: [cluster])
    }

    static func request(
        _ type: ResourceType, names: [String] = [], nonce: String = "", error: String? = nil
    ) -> Request {
        var request = Request()
        request.node.id = "sidecar~127.0.0.1~app.default~default.svc.cluster.local"
        request.typeURL = type.typeURL
        request.resourceNames = names
        request.responseNonce = nonce
        if let error { request.errorDetail.message = error }
        return request
    }
}

extension [ADSAction] {
    var responses: [Response] {
        compactMap { if case .send(let response) = $0 { response } else { nil } }
    }
}

extension Response {
    var type: ResourceType { ResourceType(rawValue: typeURL)! }
    /// Names of the resources carried, read back from the wire bytes.
    var names: [String] {
        resources.map { any in
            switch type {
            case .cluster: try! Envoy_Config_Cluster_V3_Cluster(serializedBytes: any.value).name
            case .endpoint: try! Envoy_Config_Endpoint_V3_ClusterLoadAssignment(serializedBytes: any.value).clusterName
            case .listener: try! Envoy_Config_Listener_V3_Listener(serializedBytes: any.value).name
            case .route: try! Envoy_Config_Route_V3_RouteConfiguration(serializedBytes: any.value).name
            case .secret: try! Envoy_Extensions_TransportSockets_Tls_V3_Secret(serializedBytes: any.value).name
            }
        }
    }
}

/// A simulated Envoy: connects, ACKs everything, and tracks what it has.
struct SimulatedEnvoy {
    var state = ADSStreamState()

    /// The full initial handshake Envoy performs: CDS, EDS for the clusters, CDS ACK, LDS, RDS, ACKs.
    mutating func connect(to snapshot: Snapshot, edsNames: [String], routeNames: [String]) throws {
        _ = state.update(snapshot)
        let cds = try state.receive(Fixture.request(.cluster)).responses[0]
        let eds = try state.receive(Fixture.request(.endpoint, names: edsNames)).responses[0]
        _ = try state.receive(Fixture.request(.endpoint, names: edsNames, nonce: eds.nonce))
        let lds = try state.receive(Fixture.request(.cluster, nonce: cds.nonce)).responses
        let listener = try lds.isEmpty ? state.receive(Fixture.request(.listener)).responses[0] : lds[0]
        _ = try state.receive(Fixture.request(.listener, nonce: listener.nonce))
        let rds = try state.receive(Fixture.request(.route, names: routeNames)).responses[0]
        _ = try state.receive(Fixture.request(.route, names: routeNames, nonce: rds.nonce))
    }
}
