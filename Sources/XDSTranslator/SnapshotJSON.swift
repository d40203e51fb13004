import EnvoyAPI
import Foundation
import SwiftProtobuf
public import XDSCache

/// A snapshot as Envoy JSON, the way an operator reads it: `{"CDS": [...], "EDS": [...], ...}`,
/// each resource in Envoy's proto field names, sorted by name, keys sorted, so equal snapshots
/// always print the same bytes. `trellis translate` prints it and the golden files hold it.
public enum SnapshotJSON {
    /// Every message Trellis packs into a `google.protobuf.Any` (typed configs, per-route
    /// configs, protocol options, transport sockets). JSON needs the type to print an Any's
    /// fields; one missing here makes `render` throw rather than print a half-resource.
    static let packedTypes: [any SwiftProtobuf.Message.Type] = [
        Envoy_Config_Cluster_V3_Cluster.self, Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
        Envoy_Config_Listener_V3_Listener.self, Envoy_Config_Route_V3_RouteConfiguration.self,
        Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
        Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.self,
        Envoy_Extensions_Filters_Http_Router_V3_Router.self,
        Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault.self,
        Envoy_Extensions_Filters_Http_Cors_V3_Cors.self,
        Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy.self,
        Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector.self,
        Envoy_Extensions_Filters_Listener_OriginalDst_V3_OriginalDst.self,
        Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self,
        Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate.self,
        Envoy_Extensions_Retry_Priority_PreviousPriorities_V3_PreviousPrioritiesConfig.self,
        Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext.self,
        Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext.self,
        Envoy_Extensions_TransportSockets_Tls_V3_Secret.self,
        Envoy_Extensions_Filters_Http_Rbac_V3_RBAC.self,
        Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute.self,
        Envoy_Extensions_Filters_Network_Rbac_V3_RBAC.self,
    ]

    /// SwiftProtobuf's Any registry is process-wide; filling it once is enough.
    private static let registered: Bool = {
        for type in packedTypes { Google_Protobuf_Any.register(messageType: type) }
        return true
    }()

    /// One resource as pretty-printed Envoy JSON with sorted keys (`trellis diff` compares these).
    public static func json(_ resource: XDSResource) throws -> String {
        _ = registered
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        options.preserveProtoFieldNames = true
        let object = try JSONSerialization.jsonObject(with: Data(try resource.body.jsonString(options: options).utf8))
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The resources of `types` (every type by default) in `snapshot`, as pretty-printed JSON
    /// ending in a newline. A type without resources is left out.
    public static func render(_ snapshot: Snapshot, types: [ResourceType] = ResourceType.allCases) throws -> String {
        _ = registered
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        options.preserveProtoFieldNames = true
        var document: [String: Any] = [:]
        for type in ResourceType.allCases where types.contains(type) {
            let resources = snapshot.resources(type).values.sorted { $0.name < $1.name }
            guard !resources.isEmpty else { continue }
            document[type.shortName] = try resources.map { resource in
                let text = try resource.body.jsonString(options: options)
                return try JSONSerialization.jsonObject(with: Data(text.utf8))
            }
        }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
