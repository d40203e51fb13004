import MeshAPI
import Testing
import XDSCache
import XDSTranslator

/// An endpoints-only change updates a class's outbound layer in place of translating it: the
/// result must be exactly what a full translation gives, and anything more than endpoints must
/// fall back to one.
@Suite struct EndpointChangeTests {
    static func mesh(
        endpoints: String = "[{address: 10.0.0.5, labels: {version: v1}}, {address: 10.0.0.6, labels: {version: v2}}]",
        resolution: String = "STATIC", weights: (Int, Int) = (90, 10), comment: String = ""
    ) -> MeshIndex {
        let yaml = """
            \(comment)
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews.shop.svc.cluster.local]
              location: MESH_INTERNAL
              resolution: \(resolution)
              ports: [{number: 9080, name: http, protocol: HTTP}]
              endpoints: \(endpoints)
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: ratings, namespace: shop}
            spec:
              hosts: [ratings.shop.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 9090, name: http, protocol: HTTP}]
              endpoints: [{address: 10.0.0.7}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews.shop.svc.cluster.local
              subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews.shop.svc.cluster.local]
              http:
              - route:
                - {destination: {host: reviews.shop.svc.cluster.local, subset: v1}, weight: \(weights.0)}
                - {destination: {host: reviews.shop.svc.cluster.local, subset: v2}, weight: \(weights.1)}
            """
        let result = ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: yaml)])
        #expect(result.diagnostics.allSatisfy { $0.severity == .warning }, "\(result.diagnostics)")
        return MeshIndex(result.config)
    }

    static let proxy = Proxy(ipAddresses: ["10.1.0.1"], namespace: "shop", workloadName: "client")

    @Test("new endpoints (even on other lines) update only the changed services' assignments, as a full translation would")
    func updateEqualsTranslation() throws {
        let before = Self.mesh()
        let after = Self.mesh(
            endpoints: "[{address: 10.0.0.5, labels: {version: v1}}, {address: 10.0.0.6, labels: {version: v2}}, {address: 10.0.0.8, labels: {version: v1}}]",
            comment: "# moves every line down")
        let change = try #require(EndpointChange(from: before, to: after))
        let earlier = ProxyTranslator.outbound(before, for: Self.proxy, trustDomain: "cluster.local")
        let updated = try #require(ProxyTranslator.outbound(earlier, updating: change, index: after, for: Self.proxy))
        let translated = ProxyTranslator.outbound(after, for: Self.proxy, trustDomain: "cluster.local")
        #expect(updated == translated)
        for type in ResourceType.allCases {
            #expect(updated.resources(type).mapValues(\.version) == translated.resources(type).mapValues(\.version))
        }
        let changed = ResourceType.allCases.flatMap { type in
            updated.resources(type).filter { earlier.resource(type, named: $0.key) !== $0.value }.map { "\(type.shortName) \($0.key)" }
        }
        #expect(
            Set(changed) == [
                "EDS outbound|9080||reviews.shop.svc.cluster.local", "EDS outbound|9080|v1|reviews.shop.svc.cluster.local",
                "EDS outbound|9080|v2|reviews.shop.svc.cluster.local",
            ])
    }

    @Test("anything more than STATIC endpoints is not an endpoint change")
    func otherChanges() {
        let before = Self.mesh()
        #expect(EndpointChange(from: before, to: Self.mesh(weights: (80, 20))) == nil, "a route changed")
        #expect(
            EndpointChange(from: Self.mesh(resolution: "DNS"), to: Self.mesh(endpoints: "[{address: 10.0.0.9}]", resolution: "DNS"))
                == nil, "DNS clusters carry their endpoints")
        #expect(
            EndpointChange(
                from: before,
                to: Self.mesh(endpoints: "[{address: 10.0.0.5, labels: {version: v1}, serviceAccount: reviews}]")) == nil,
            "a new service account changes the clusters' subject alt names")
    }
}
