import MeshAPI
import Testing

/// Fields Istio defines that Trellis cannot translate with Istio's meaning: each is rejected as
/// "not supported yet" naming the field, or, where Istio's own valid documents use it, loads
/// with a warning that says what happens instead. Never silently ignored.
@Suite struct FieldCoverageTests {
    static let route = "route: [{destination: {host: reviews}}]"

    static func http(_ rule: String) -> String {
        virtualService("  hosts: [reviews]\n  http:\n  - \(rule)")
    }

    static let unsupported: [ValidationTests.Case] = [
        // Envoy's RedirectAction has only these five codes; Istio accepts any 3xx and then
        // builds a route without an action, which Envoy rejects.
        .init(yaml: http("redirect: {uri: /x, redirectCode: 304}"), field: "spec.http[0].redirect.redirectCode", message: "not supported yet"),
        .init(yaml: http("redirect: {uri: /x, redirectCode: 300}"), field: "spec.http[0].redirect.redirectCode", message: "301, 302, 303, 307 or 308"),
        // A Unix-socket egress listener: every imported service on one socket.
        .init(
            yaml: resource("Sidecar", "  egress: [{port: {number: 0}, bind: 'unix:///var/run/egress.sock', hosts: ['*/*']}]"),
            field: "spec.egress[0].bind", message: "not supported yet"),
        .init(
            yaml: resource("Sidecar", "  egress: [{bind: 'unix:///var/run/egress.sock', hosts: ['*/*']}]"),
            field: "spec.egress[0].bind", message: "not supported yet"),
        // istiod sends resolution NONE traffic to targetPort (upstream_port_override).
        .init(
            yaml: resource("ServiceEntry", "  hosts: [a.com]\n  addresses: [10.1.1.1]\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]"),
            field: "spec.ports[0].targetPort", message: "not supported yet"),
        // Envoy resolves a DNS cluster's endpoints as names.
        .init(
            yaml: resource("ServiceEntry", "  hosts: [a.com]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: 'unix:///var/run/a.sock'}]"),
            field: "spec.endpoints[0].address", message: "not supported yet"),
        .init(
            yaml: resource("Sidecar", "  egress: [{bind: 'localhost', hosts: ['*/*']}]"),
            field: "spec.egress[0].bind", message: "not a valid IP address"),
    ]

    @Test(arguments: unsupported)
    func rejects(_ testCase: ValidationTests.Case) {
        expectError(testCase.yaml, at: testCase.field, containing: testCase.message)
    }

    @Test func targetPortIsUsedWhereEndpointsAreKnown() {
        expectValid(resource("ServiceEntry", "  hosts: [a.com]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]"))
        expectValid(resource(
            "ServiceEntry",
            "  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]\n  endpoints: [{address: 10.0.0.1}]"))
    }

    @Test(arguments: [UInt32(301), 302, 303, 307, 308])
    func redirectCodesEnvoyHasAreAccepted(_ code: UInt32) {
        expectValid(Self.http("redirect: {uri: /x, redirectCode: \(code)}"))
    }

    /// Istio's valid corpus has WorkloadEntries with only a `network`: they load, with a
    /// warning that the endpoint is left out (its network's gateway is not configured).
    @Test func endpointWithOnlyANetworkLoadsWithAWarning() {
        let standalone = expectValid(resource("WorkloadEntry", "  network: net\n  labels: {app: db}"))
        #expect(standalone.config.workloadEntries.count == 1)
        #expect(standalone.diagnostics.contains {
            $0.severity == .warning && $0.field == "spec.address" && $0.message.contains("network \"net\"")
                && $0.message.contains("left out")
        })
        let inline = expectValid(resource(
            "ServiceEntry",
            "  hosts: [db.internal]\n  resolution: STATIC\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n"
                + "  addresses: [10.0.0.9]\n  endpoints: [{address: 10.0.0.5}, {network: remote}]"))
        #expect(inline.diagnostics.contains {
            $0.severity == .warning && $0.field == "spec.endpoints[1].address" && $0.message.contains("left out")
        })
    }

    @Test func endpointWithNeitherAddressNorNetworkIsRejected() {
        expectError(resource("WorkloadEntry", "  labels: {app: db}"), at: "spec.address", containing: "Address is required")
    }

    /// destinationSubnets are translated (filter chains matching the destination), so they load.
    @Test func destinationSubnetsAreAccepted() {
        expectValid(virtualService(
            "  hosts: [db.example.com]\n  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/8]}]\n"
                + "    route: [{destination: {host: db.example.com}}]"))
        expectValid(virtualService(
            "  hosts: [a.example.com]\n  tls:\n  - match: [{sniHosts: [a.example.com], destinationSubnets: [10.0.0.1]}]\n"
                + "    route: [{destination: {host: a.example.com}}]"))
    }

    /// The matches of tcp and tls routes carry the same source conditions as http ones.
    @Test func l4MatchSourceConditionsAreChecked() {
        expectError(
            virtualService("  hosts: [a.com]\n  tcp:\n  - match: [{sourceNamespace: Bad_NS}]\n    route: [{destination: {host: a.com}}]"),
            at: "spec.tcp[0].match[0].sourceNamespace", containing: "is invalid")
        expectValid(virtualService(
            "  hosts: [a.com]\n  tcp:\n  - match: [{gateways: [mesh], sourceNamespace: shop, destinationSubnets: [10.0.0.0/8]}]\n"
                + "    route: [{destination: {host: a.com}}]"))
    }
}
