import MeshAPI
import Testing

/// Plain scalars are typed as Kubernetes' YAML parser types them; quoting makes a string.
@Suite struct ScalarTests {
    static func entry(_ fields: String) -> String {
        resource("WorkloadEntry", "  address: 10.0.0.1\n\(fields)")
    }

    @Test(arguments: [("80", 80), ("0x50", 80), ("0o120", 80), ("0120", 80), ("8_0", 80), ("+80", 80), ("80.0", 80)] as [(String, UInt32)])
    func integerSpellings(_ text: String, value: UInt32) throws {
        let result = expectValid(Self.entry("  weight: \(text)"))
        #expect(try #require(result.config.workloadEntries.first).spec.weight == value)
    }

    @Test(arguments: ["yes", "on", "true", "1", "1.5", "~", "null", "2.5e3"])
    func unquotedNonStringsAreNotStrings(_ text: String) {
        let result = load(Self.entry("  network: \(text)"))
        let isNull = text == "~" || text == "null"
        // null means "unset"; every other one of these is a type error for a string field.
        #expect(result.hasErrors == !isNull, "\(result.errorText)")
    }

    @Test(arguments: ["'yes'", "\"80\"", ".", "a:b", "1.2.3.4", "v1", "08x", "-x"])
    func stringsStayStrings(_ text: String) {
        expectValid(Self.entry("  locality: \(text)"))
    }

    @Test func booleansFollowYAML11() throws {
        let yaml = virtualService(
            "  hosts: [a]\n  http:\n  - match: [{ignoreUriCase: yes, uri: {prefix: /}}]\n    route: [{destination: {host: a}}]")
        let result = expectValid(yaml)
        #expect(try #require(result.config.virtualServices.first).spec.http[0].match[0].ignoreUriCase == true)
        expectError(
            virtualService("  hosts: [a]\n  http:\n  - match: [{ignoreUriCase: 'true'}]\n    route: [{destination: {host: a}}]"),
            at: "spec.http[0].match[0].ignoreUriCase", containing: "expected boolean")
    }

    @Test func nullMeansUnset() throws {
        let result = expectValid(resource("DestinationRule", "  host: r\n  trafficPolicy: ~\n  subsets:\n  exportTo: null"))
        let rule = try #require(result.config.destinationRules.first).spec
        #expect(rule.trafficPolicy == nil && rule.subsets.isEmpty && rule.exportTo.isEmpty)
    }
}

extension ScalarTests {
    @Test func anchorsAliasesAndMergeKeysWork() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: r}
            spec:
              host: reviews
              trafficPolicy: &policy
                connectionPool: {tcp: {maxConnections: 10}}
              subsets:
              - name: v1
                labels: &v1 {version: v1}
                trafficPolicy:
                  <<: *policy
                  tls: {mode: ISTIO_MUTUAL}
              - name: v2
                labels:
                  <<: *v1
                  version: v2
            """
        let result = expectValid(yaml)
        let rule = try #require(result.config.destinationRules.first).spec
        #expect(rule.subsets[0].trafficPolicy?.connectionPool?.tcp?.maxConnections == 10)
        #expect(rule.subsets[0].trafficPolicy?.tls?.mode == .istioMutual)
        #expect(rule.subsets[1].labels == ["version": "v2"])
    }
}
