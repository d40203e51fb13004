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
        Case(yaml: rule("{tls: {mode: SIMPLE, credentialName: cred}}"), field: "spec.trafficPolicy.tls.credentialName"),
        Case(yaml: rule("{tls: {mode: MUTUAL, credentialName: cred}}"), field: "spec.trafficPolicy.tls.credentialName"),
        Case(
            yaml: resource("DestinationRule", "  host: r.example.com\n  subsets: [{name: v1, labels: {v: '1'}, trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: SIMPLE, credentialName: c}}]}}]"),
            field: "spec.subsets[0].trafficPolicy.portLevelSettings[0].tls.credentialName"),
    ]

    @Test(arguments: rejected)
    func rejects(_ testCase: Case) {
        expectError(testCase.yaml, at: testCase.field, containing: "not supported yet")
    }

    /// Translated now: they load without a word about the policy.
    static let translated: [String] = [
        rule("{tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, sni: r.example.com, subjectAltNames: [r.example.com]}}"),
        rule("{tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, insecureSkipVerify: true}}"),
        rule("{tls: {mode: SIMPLE}}"),
        rule("{loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 60s}}}"),
        rule("{loadBalancer: {warmup: {duration: 60s, minimumPercent: 5, aggression: 2}}}"),
        rule("{connectionPool: {http: {http2KeepAlive: {interval: 10s, timeout: 2s}}}}"),
        rule("{loadBalancer: {consistentHash: {httpQueryParameterName: user}}}"),
    ]

    @Test(arguments: translated)
    func translates(_ yaml: String) {
        let result = expectValid(yaml)
        let aboutPolicy = result.diagnostics.filter { $0.field.hasPrefix("spec.trafficPolicy") }
        #expect(aboutPolicy.isEmpty, "\(aboutPolicy.map(\.description))")
    }

    /// Istio ignores warmup under other balancers without a word; Trellis says so.
    static let warned: [Case] = [
        Case(yaml: rule("{loadBalancer: {simple: RANDOM, warmup: {duration: 60s}}}"), field: "spec.trafficPolicy.loadBalancer.warmup"),
        Case(
            yaml: rule("{portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {useSourceIp: true}, warmup: {duration: 60s}}}]}"),
            field: "spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmup"),
    ]

    @Test(arguments: warned)
    func warns(_ testCase: Case) {
        let result = expectValid(testCase.yaml)
        #expect(
            result.diagnostics.contains { $0.severity == .warning && $0.field == testCase.field && $0.message.contains("has no effect") },
            "\(result.diagnostics.map(\.description))")
    }
}
