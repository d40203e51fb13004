import EnvoyAPI
import SwiftProtobuf
import MeshAPI
import XDSCache

/// Endpoints of a cluster, grouped by locality as Envoy balances across localities first.
enum ClusterLoadAssignments {
    typealias Assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment

    static func assignment(
        name: String, service: MeshService, port: ServicePort, subsetLabels: [String: String] = [:]
    ) -> Assignment {
        // An endpoint with only a `network` is reachable through that network's gateway alone,
        // which Trellis does not configure (validation warns); Istio without network gateways
        // leaves it out too.
        let endpoints = service.endpoints.filter { endpoint in
            !endpoint.address.isEmpty && subsetLabels.allSatisfy { endpoint.labels[$0.key] == $0.value }
        }
        var byLocality: [String: [Envoy_Config_Endpoint_V3_LbEndpoint]] = [:]
        for endpoint in endpoints {
            var lbEndpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
            var host = Envoy_Config_Endpoint_V3_Endpoint()
            host.address = .socket(endpoint.address, port: endpoint.port(for: port))
            lbEndpoint.endpoint = host
            // Envoy balances over the healthy endpoints only (all of them below its panic threshold).
            lbEndpoint.healthStatus = endpoint.isHealthy ? .healthy : .unhealthy
            lbEndpoint.loadBalancingWeight = Google_Protobuf_UInt32Value(max(endpoint.weight ?? 1, 1))
            if let tlsMode = endpoint.tlsMode {
                var match = Google_Protobuf_Struct()
                match.fields["tlsMode"] = Google_Protobuf_Value(stringValue: tlsMode)
                lbEndpoint.metadata.filterMetadata["envoy.transport_socket_match"] = match
            }
            byLocality[endpoint.locality ?? "", default: []].append(lbEndpoint)
        }
        var assignment = Assignment()
        assignment.clusterName = name
        assignment.endpoints = byLocality.keys.sorted().map { locality in
            var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
            let parts = locality.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if !locality.isEmpty {
                var value = Envoy_Config_Core_V3_Locality()
                value.region = parts[0]
                if parts.count > 1 { value.zone = parts[1] }
                if parts.count > 2 { value.subZone = parts[2] }
                group.locality = value
            }
            group.lbEndpoints = byLocality[locality]!.sorted { sortKey($0.endpoint.address) < sortKey($1.endpoint.address) }
            group.loadBalancingWeight = Google_Protobuf_UInt32Value(
                group.lbEndpoints.reduce(0) { $0 + $1.loadBalancingWeight.value })
            return group
        }
        return assignment
    }

    /// Socket addresses by address and port; Unix sockets (`pipe`, no port) by path.
    private static func sortKey(_ address: Envoy_Config_Core_V3_Address) -> (String, UInt32) {
        if case .pipe(let pipe)? = address.address { return ("unix://" + pipe.path, 0) }
        return (address.socketAddress.address, address.socketAddress.portValue)
    }

    /// A DNS service without endpoints resolves its own host name, at the service port's
    /// `targetPort` when it has one (Istio's hostname endpoint).
    static func dnsAssignment(name: String, host: String, port: UInt32) -> Assignment {
        var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
        var target = Envoy_Config_Endpoint_V3_Endpoint()
        target.address = .socket(host, port: port)
        endpoint.endpoint = target
        var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        group.lbEndpoints = [endpoint]
        var assignment = Assignment()
        assignment.clusterName = name
        assignment.endpoints = [group]
        return assignment
    }
}
