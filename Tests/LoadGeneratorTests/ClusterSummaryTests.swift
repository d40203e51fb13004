import EnvoyAPI
import Foundation
@testable import LoadGenerator
import SwiftProtobuf
import Testing

/// The load generator reads a cluster's name and discovery type off the wire; it must agree
/// with a full decode, whatever else the cluster carries.
@Suite struct ClusterSummaryTests {
    @Test("name and EDS read off the wire agree with a full decode", arguments: [
        Envoy_Config_Cluster_V3_Cluster.DiscoveryType.eds, .static, .strictDns, .originalDst,
    ])
    func agreesWithDecoding(type: Envoy_Config_Cluster_V3_Cluster.DiscoveryType) throws {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = "outbound|9080|v1|reviews.default.svc.cluster.local"
        cluster.type = type
        cluster.connectTimeout = Google_Protobuf_Duration(seconds: 10)
        cluster.edsClusterConfig.serviceName = "ignored"
        let bytes: Data = try cluster.serializedBytes()
        let summary = try ClusterSummary(serialized: bytes)
        #expect(summary.name == cluster.name)
        #expect(summary.isEDS == (type == .eds))
    }

    @Test("a truncated cluster is an error, not a guess")
    func truncated() throws {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = "outbound|9080||reviews.default.svc.cluster.local"
        let bytes: Data = try cluster.serializedBytes()
        #expect(throws: WireReader.Malformed.self) { try ClusterSummary(serialized: bytes.dropLast(3)) }
    }
}
