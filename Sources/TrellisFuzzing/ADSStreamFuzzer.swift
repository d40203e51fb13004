import EnvoyAPI
import SwiftProtobuf
import XDSCache

/// Fuzz target: the state-of-the-world ADS state machine fed an arbitrary sequence of requests
/// (any type, names, nonce, NACK) and snapshot changes, as a misbehaving client could send
/// them. It must never trap, must only refuse what the protocol says to refuse, and what it
/// sends must stay within what the proxy asked for.
public enum ADSStreamFuzzer {
    typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest

    /// Bytes → operations. Every byte sequence is a valid program; running out of bytes ends it.
    struct Program {
        var bytes: ArraySlice<UInt8>
        mutating func next() -> UInt8? { bytes.popFirst() }
        mutating func pick<T>(_ choices: [T]) -> T? { next().map { choices[Int($0) % choices.count] } }
    }

    static let hugeName = String(repeating: "x", count: 16 * 1024)
    static let names = ["a", "b", "c", "80", "l", "*", "", hugeName, "outbound|80||a.mesh.test"]
    static let unknownType = "type.googleapis.com/envoy.config.bogus.v3.Nothing"

    public static func fuzz(_ bytes: [UInt8]) {
        var program = Program(bytes: bytes[...])
        var state = ADSStreamState()
        var nonces: [ResourceType: [String]] = [:]
        var requested: [ResourceType: Set<String>] = [:]
        var lastNonce = 0
        var first = true
        while let op = program.next() {
            if op % 5 == 0 {
                guard let snapshot = program.pick(snapshots) else { return }
                check(state.update(snapshot), requested: requested, nonces: &nonces, lastNonce: &lastNonce)
                continue
            }
            guard let typeChoice = program.next(), let count = program.next(), let nonceChoice = program.next() else { return }
            let types = ResourceType.allCases.map(\.typeURL) + [unknownType]
            var request = Request()
            request.typeURL = types[Int(typeChoice) % types.count]
            if !(first && op % 7 == 1) { request.node.id = "sidecar~127.0.0.1~fuzz.default~default.svc.cluster.local" }
            request.resourceNames = (0..<Int(count % 4)).compactMap { _ in program.pick(names) }
            let type = ResourceType(rawValue: request.typeURL)
            let sent = type.flatMap { nonces[$0] } ?? []
            switch nonceChoice % 5 {
            case 0: request.responseNonce = ""
            case 1: request.responseNonce = sent.last ?? ""
            case 2: request.responseNonce = sent.first ?? "1"
            case 3: request.responseNonce = "999999"
            default: request.responseNonce = sent.last ?? "0"
            }
            if nonceChoice % 3 == 0 { request.errorDetail.message = "rejected by the fuzzer" }
            let wasFirst = first
            first = false
            do throws(ADSStreamError) {
                let actions = try state.receive(request)
                precondition(type != nil, "an unknown type_url was accepted")
                precondition(!wasFirst || request.hasNode, "a first request without node was accepted")
                // A request with a stale nonce does not change the subscription.
                if let type, request.responseNonce.isEmpty || request.responseNonce == nonces[type]?.last {
                    requested[type] = Set(request.resourceNames)
                }
                check(actions, requested: requested, nonces: &nonces, lastNonce: &lastNonce)
            } catch {
                switch error {
                case .missingNode: precondition(wasFirst && !request.hasNode, "missingNode for a stream that had a node")
                case .unsupportedType: precondition(type == nil, "a served type was refused")
                }
                return  // the server ends the stream
            }
        }
    }

    /// Responses are for requested types, carry fresh increasing nonces, and for named types
    /// only names the proxy asked for.
    static func check(
        _ actions: [ADSAction], requested: [ResourceType: Set<String>], nonces: inout [ResourceType: [String]],
        lastNonce: inout Int
    ) {
        for case .send(let response) in actions {
            let type = ResourceType(rawValue: response.typeURL)
            precondition(type != nil, "response of unknown type \(response.typeURL)")
            guard let type else { continue }
            precondition(requested[type] != nil, "\(type.shortName) sent before it was requested")
            let nonce = Int(response.nonce) ?? -1
            precondition(nonce > lastNonce, "nonce \(response.nonce) not after \(lastNonce)")
            lastNonce = nonce
            nonces[type, default: []].append(response.nonce)
            if !type.isFullState, let asked = requested[type] {
                for any in response.resources {
                    precondition(asked.contains(name(of: any, type: type)), "\(type.shortName) sent a resource not asked for")
                }
            }
        }
    }

    static func name(of any: Google_Protobuf_Any, type: ResourceType) -> String {
        switch type {
        case .endpoint: (try? Envoy_Config_Endpoint_V3_ClusterLoadAssignment(serializedBytes: any.value))?.clusterName ?? ""
        case .route: (try? Envoy_Config_Route_V3_RouteConfiguration(serializedBytes: any.value))?.name ?? ""
        case .secret: (try? Envoy_Extensions_TransportSockets_Tls_V3_Secret(serializedBytes: any.value))?.name ?? ""
        case .cluster: (try? Envoy_Config_Cluster_V3_Cluster(serializedBytes: any.value))?.name ?? ""
        case .listener: (try? Envoy_Config_Listener_V3_Listener(serializedBytes: any.value))?.name ?? ""
        }
    }

    /// Three configurations a proxy moves between: one service, the service moved to another
    /// cluster, and nothing.
    static let snapshots: [Snapshot] = [
        snapshot(cluster: "a", port: 1, routeTo: "a"), snapshot(cluster: "b", port: 2, routeTo: "b"), Snapshot(),
    ]

    static func snapshot(cluster: String, port: UInt32, routeTo: String) -> Snapshot {
        var c = Envoy_Config_Cluster_V3_Cluster()
        c.name = cluster
        c.type = .eds
        var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        assignment.clusterName = cluster
        var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
        endpoint.endpoint.address.socketAddress.address = "127.0.0.1"
        endpoint.endpoint.address.socketAddress.portValue = port
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = [endpoint]
        assignment.endpoints = [locality]
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = "l"
        var routes = Envoy_Config_Route_V3_RouteConfiguration()
        routes.name = "80"
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = "h"
        host.domains = ["*"]
        var route = Envoy_Config_Route_V3_Route()
        route.route.cluster = routeTo
        host.routes = [route]
        routes.virtualHosts = [host]
        var secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        secret.name = "default"
        // Messages built in memory always serialize.
        return Snapshot([
            try! XDSResource(.cluster, name: cluster, message: c),
            try! XDSResource(.endpoint, name: cluster, message: assignment),
            try! XDSResource(.listener, name: "l", message: listener, referencedRoutes: ["80"]),
            try! XDSResource(.route, name: "80", message: routes, referencedClusters: [routeTo]),
            try! XDSResource(.secret, name: "default", message: secret),
        ])
    }
}
