import MeshAPI
import Testing

/// Fields Istio accepts that Trellis cannot translate yet are reported, never dropped silently.
@Suite struct TranslationLimitsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var field: String
        var testDescription: String { field }
    }

    static func rule(_ policy: String) -> String {
        resource("DestinationRule", "  host: r.example.com\n  trafficPolicy: \(policy)")
    }

    static let rejected: [Case] = [
        Case(yaml: rule("{tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}}"), field: "spec.trafficPolicy.tls.mode"),
        Case(yaml: rule("{tls: {mode: SIMPLE, credentialName: cred}}"), field: "spec.trafficPolicy.tls.credentialName"),
        Case(
            yaml: resource("DestinationRule", "  host: r.example.com\n  subsets: [{name: v1, labels: {v: '1'}, trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: SIMPLE, credentialName: c}}]}}]"),
            field: "spec.subsets[0].trafficPolicy.portLevelSettings[0].tls.credentialName"),
        Case(
            yaml: virtualService("  hosts: [db.example.com]\n  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/8]}]\n    route: [{destination: {host: db.example.com}}]"),
            field: "spec.tcp[0].match[0].destinationSubnets"),
        Case(
            yaml: virtualService("  hosts: [a.example.com]\n  tls:\n  - match: [{sniHosts: [a.example.com], destinationSubnets: [10.0.0.1]}]\n    route: [{destination: {host: a.example.com}}]"),
            field: "spec.tls[0].match[0].destinationSubnets"),
    ]

    @Test(arguments: rejected)
    func rejects(_ testCase: Case) {
        expectError(testCase.yaml, at: testCase.field, containing: "not supported yet")
    }

    /// Istio's own valid corpus uses these, so they load, with a warning naming the field.
    static let warned: [Case] = [
        Case(yaml: rule("{loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 60s}}}"), field: "spec.trafficPolicy.loadBalancer.warmup"),
        Case(yaml: rule("{connectionPool: {http: {http2KeepAlive: {interval: 10s}}}}"), field: "spec.trafficPolicy.connectionPool.http.http2KeepAlive"),
    ]

    @Test(arguments: warned)
    func warns(_ testCase: Case) {
        let result = expectValid(testCase.yaml)
        #expect(
            result.diagnostics.contains { $0.severity == .warning && $0.field == testCase.field && $0.message.contains("not applied yet") },
            "\(result.diagnostics.map(\.description))")
    }
}
