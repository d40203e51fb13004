import MeshAPI
import Testing
import XDSCache
import XDSTranslator

/// Proxies alike in what outbound configuration depends on share one class, and so one
/// translation; anything that changes what they are sent separates them.
@Suite struct ProxyClassTests {
    static let yaml = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: reviews, namespace: shop}
        spec:
          hosts: [reviews.shop.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 9080, name: http, protocol: HTTP}]
          endpoints: [{address: 10.0.0.5, labels: {app: reviews}}, {address: 10.0.0.6, labels: {app: reviews}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: ratings, namespace: shop}
        spec:
          hosts: [ratings.shop.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 9090, name: http, protocol: HTTP}]
          endpoints: [{address: 10.0.0.7, labels: {app: ratings}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings-from-canary, namespace: shop}
        spec:
          host: ratings.shop.svc.cluster.local
          workloadSelector: {matchLabels: {track: canary}}
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: ratings-only, namespace: shop}
        spec:
          workloadSelector: {labels: {app: ratings}}
          egress: [{hosts: ["./reviews.shop.svc.cluster.local"]}]
        """

    let index = MeshIndex(ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: Self.yaml)]).config)

    func proxy(_ ip: String, labels: [String: String], namespace: String = "shop", mode: Proxy.InterceptionMode = .redirect) -> Proxy {
        Proxy(ipAddresses: [ip], namespace: namespace, labels: labels, serviceAccount: "sa-\(ip)", interceptionMode: mode,
              workloadName: "pod-\(ip)")
    }

    func sameClass(_ a: Proxy, _ b: Proxy, trustDomain: String? = nil) -> Bool {
        ProxyClass(of: a, in: index, trustDomain: trustDomain) == ProxyClass(of: b, in: index, trustDomain: trustDomain)
    }

    @Test("two replicas of a workload share a class and its outbound translation; their inbound differs by address")
    func replicasShare() {
        let a = proxy("10.0.0.5", labels: ["app": "reviews", "pod-template-hash": "abc"])
        let b = proxy("10.0.0.6", labels: ["app": "reviews", "pod-template-hash": "def"])
        #expect(sameClass(a, b))
        #expect(ProxyTranslator.outbound(index, for: a, trustDomain: nil) == ProxyTranslator.outbound(index, for: b, trustDomain: nil))
    }

    @Test("a proxy whose address serves another service differs inbound only")
    func otherServiceDiffersInboundOnly() {
        let reviews = proxy("10.0.0.5", labels: ["app": "reviews"])
        let ratingsAddress = proxy("10.0.0.7", labels: ["app": "reviews"])
        #expect(sameClass(reviews, ratingsAddress))
        #expect(ProxyTranslator.inbound(index, for: reviews, trustDomain: nil)
            != ProxyTranslator.inbound(index, for: ratingsAddress, trustDomain: nil))
    }

    @Test("a different Sidecar, namespace, interception mode, trust domain or selected label is another class")
    func differences() {
        let base = proxy("10.0.0.5", labels: ["app": "reviews"])
        #expect(!sameClass(base, proxy("10.0.0.7", labels: ["app": "ratings"])), "ratings' own Sidecar applies")
        #expect(!sameClass(base, proxy("10.0.0.5", labels: ["app": "reviews"], namespace: "other")))
        #expect(!sameClass(base, proxy("10.0.0.5", labels: ["app": "reviews"], mode: .none)))
        #expect(ProxyClass(of: base, in: index, trustDomain: nil) != ProxyClass(of: base, in: index, trustDomain: "cluster.local"))
        let canary = proxy("10.0.0.5", labels: ["app": "reviews", "track": "canary"])
        #expect(!sameClass(base, canary), "a DestinationRule selects on track")
        #expect(ProxyTranslator.outbound(index, for: base, trustDomain: nil) != ProxyTranslator.outbound(index, for: canary, trustDomain: nil))
    }

    @Test("the composed snapshot is the layers: inbound, outbound, secrets")
    func composition() {
        let reviews = proxy("10.0.0.5", labels: ["app": "reviews"])
        let whole = ProxyTranslator.snapshot(index, for: reviews)
        let inbound = ProxyTranslator.inbound(index, for: reviews, trustDomain: nil)
        let outbound = ProxyTranslator.outbound(index, for: reviews, trustDomain: nil)
        #expect(Set(whole.all.map(\.name)) == Set(inbound.all.map(\.name) + outbound.all.map(\.name)))
        #expect(whole.resource(.listener, named: "virtualInbound") == inbound.resource(.listener, named: "virtualInbound"))
    }
}
