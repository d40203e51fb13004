import EnvoyAPI
import MeshAPI
import SwiftProtobuf
import Testing
import XDSCache
import XDSTranslator

/// WorkloadEntries whose readiness probe fails (`MeshConfig.unhealthyWorkloads`) reach Envoy as
/// UNHEALTHY endpoints, and a health flip is an endpoint change: only the ClusterLoadAssignments
/// of the services they serve are made again.
@Suite struct WorkloadHealthTests {
    static let yaml = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: vm, namespace: shop}
        spec:
          hosts: [vm.shop.mesh]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: 80, name: http, protocol: HTTP}]
          workloadSelector: {labels: {app: vm}}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: other, namespace: shop}
        spec:
          hosts: [other.shop.mesh]
          resolution: STATIC
          ports: [{number: 81, name: http, protocol: HTTP}]
          endpoints: [{address: 10.0.0.7}]
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: vm, namespace: shop}
        spec:
          template: {labels: {app: vm}}
          probe: {periodSeconds: 1, httpGet: {port: 8080, path: /ready}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: vm-1, namespace: shop, annotations: {trellis.dev/workload-group: vm}}
        spec: {address: 10.0.0.1, labels: {app: vm}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: vm-2, namespace: shop, annotations: {trellis.dev/workload-group: vm}}
        spec: {address: 10.0.0.2, labels: {app: vm}}
        """

    static let proxy = Proxy(ipAddresses: ["10.1.0.1"], namespace: "shop", workloadName: "client")
    static let cluster = "outbound|80||vm.shop.mesh"
    static let vm2 = ResourceKey(kind: .workloadEntry, namespace: "shop", name: "vm-2")

    static func config(unhealthy: Set<ResourceKey> = []) -> MeshConfig {
        let result = ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: yaml)])
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        var config = result.config
        config.unhealthyWorkloads = unhealthy
        return config
    }

    /// Each endpoint's address and health in the cluster's assignment.
    static func health(in snapshot: Snapshot, cluster: String = cluster) throws -> [String: String] {
        let resource = try #require(snapshot.resource(.endpoint, named: cluster))
        let assignment = try Envoy_Config_Endpoint_V3_ClusterLoadAssignment(serializedBytes: resource.body.value)
        var result: [String: String] = [:]
        for endpoint in assignment.endpoints.flatMap(\.lbEndpoints) {
            result[endpoint.endpoint.address.socketAddress.address] = "\(endpoint.healthStatus)"
        }
        return result
    }

    @Test("an entry in unhealthyWorkloads is an UNHEALTHY endpoint; the others stay HEALTHY")
    func unhealthyEndpoint() throws {
        let snapshot = ProxyTranslator.snapshot(Self.config(unhealthy: [Self.vm2]), for: Self.proxy)
        #expect(try Self.health(in: snapshot) == ["10.0.0.1": "healthy", "10.0.0.2": "unhealthy"])
        let json = try SnapshotJSON.render(snapshot)
        #expect(json.contains("\"health_status\" : \"UNHEALTHY\""))

        let healthy = ProxyTranslator.snapshot(Self.config(), for: Self.proxy)
        #expect(try Self.health(in: healthy) == ["10.0.0.1": "healthy", "10.0.0.2": "healthy"])
    }

    @Test("a health flip is an endpoint change that remakes only the assignments of the entry's services")
    func healthFlipIsAnEndpointChange() throws {
        let before = MeshIndex(Self.config())
        let after = MeshIndex(Self.config(unhealthy: [Self.vm2]))
        let change = try #require(EndpointChange(from: before, to: after))
        let earlier = ProxyTranslator.outbound(before, for: Self.proxy, trustDomain: nil)
        let updated = try #require(ProxyTranslator.outbound(earlier, updating: change, index: after, for: Self.proxy))
        #expect(updated == ProxyTranslator.outbound(after, for: Self.proxy, trustDomain: nil))
        let changed = ResourceType.allCases.flatMap { type in
            updated.resources(type).filter { earlier.resource(type, named: $0.key) !== $0.value }.map { "\(type.shortName) \($0.key)" }
        }
        #expect(changed == ["EDS \(Self.cluster)"])
        #expect(try Self.health(in: updated)["10.0.0.2"] == "unhealthy")

        // And back: healthy again is the same kind of change.
        let back = try #require(EndpointChange(from: after, to: before))
        let restored = try #require(ProxyTranslator.outbound(updated, updating: back, index: before, for: Self.proxy))
        #expect(try Self.health(in: restored)["10.0.0.2"] == "healthy")
    }
}
