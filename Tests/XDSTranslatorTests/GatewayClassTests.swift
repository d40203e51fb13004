import MeshAPI
import Testing
import XDSCache
import XDSTranslator

/// Gateway proxies are classes too: the Gateways' `selector` keys are among the labels a class
/// keeps, so gateways selected by different Gateways are translated apart and replicas of one
/// gateway share a translation. And a VirtualService bound only to a gateway never reaches
/// sidecars.
@Suite struct GatewayClassTests {
    static let yaml = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: web, namespace: shop}
        spec:
          hosts: [web.shop.svc.cluster.local]
          resolution: STATIC
          ports: [{number: 8000, name: http, protocol: HTTP}]
          endpoints: [{address: 10.0.0.5}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: public, namespace: istio-system}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web, namespace: shop}
        spec:
          hosts: [web.shop.svc.cluster.local, www.example.com]
          gateways: [istio-system/public]
          http:
          - route: [{destination: {host: web.shop.svc.cluster.local}}]
            fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
        """

    let index = MeshIndex(ConfigLoader.load([ConfigFile(path: "gw.yaml", contents: Self.yaml)]).config)

    func gateway(_ ip: String, labels: [String: String]) -> Proxy {
        Proxy(kind: .router, ipAddresses: [ip], namespace: "istio-system", labels: labels, serviceAccount: "gw",
              interceptionMode: .none, workloadName: "gw-\(ip)")
    }

    @Test("replicas of a gateway share a class; a gateway no Gateway selects is another class")
    func gatewayClasses() {
        let a = gateway("10.1.0.1", labels: ["istio": "ingressgateway", "pod-template-hash": "x"])
        let b = gateway("10.1.0.2", labels: ["istio": "ingressgateway", "pod-template-hash": "y"])
        let other = gateway("10.1.0.3", labels: ["istio": "egressgateway"])
        #expect(ProxyClass(of: a, in: index, trustDomain: nil) == ProxyClass(of: b, in: index, trustDomain: nil))
        #expect(ProxyClass(of: a, in: index, trustDomain: nil) != ProxyClass(of: other, in: index, trustDomain: nil))
        let outboundA = ProxyTranslator.outbound(index, for: a, trustDomain: nil)
        #expect(outboundA == ProxyTranslator.outbound(index, for: b, trustDomain: nil))
        #expect(outboundA.resource(.listener, named: "0.0.0.0_8080") != nil)
        #expect(ProxyTranslator.outbound(index, for: other, trustDomain: nil).resource(.listener, named: "0.0.0.0_8080") == nil)
    }

    @Test("a VirtualService bound only to a Gateway does not apply to sidecars")
    func gatewayOnlyBindingSkipsSidecars() throws {
        let sidecar = Proxy(ipAddresses: ["10.0.0.9"], namespace: "shop", interceptionMode: .none)
        let snapshot = ProxyTranslator.outbound(index, for: sidecar, trustDomain: nil)
        let routes = try #require(snapshot.resource(.route, named: "8000"))
        // The sidecar routes web by its default route, not the gateway's VirtualService (its
        // 418 fault would show up as the fault filter's per-route config).
        let json = try SnapshotJSON.render(Snapshot([routes]))
        #expect(json.contains("\"name\" : \"default\""), "\(json)")
        #expect(!json.contains("418"), "\(json)")
        let gatewayJSON = try SnapshotJSON.render(ProxyTranslator.outbound(
            index, for: gateway("10.1.0.1", labels: ["istio": "ingressgateway"]), trustDomain: nil))
        #expect(gatewayJSON.contains("418") && gatewayJSON.contains("www.example.com:*"), "\(gatewayJSON)")
    }
}
