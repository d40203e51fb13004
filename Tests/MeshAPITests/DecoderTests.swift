import MeshAPI
import Testing

@Suite struct DecoderTests {
    @Test func diagnosticsPointAtTheOffendingLine() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    host: reviews
                  weight: -5
            """
        let result = load(yaml, file: "rules.yaml")
        let error = try #require(result.errors.first)
        #expect(error.source == SourceLocation(file: "rules.yaml", line: 12))
        #expect(error.description == "rules.yaml:12: VirtualService default/reviews: spec.http[0].route[0].weight: weight -5 < 0")
        #expect(result.rejected == [ResourceKey(kind: .virtualService, namespace: "default", name: "reviews")])
    }

    @Test func linesCountFromTheStartOfTheFileInMultiDocumentFiles() throws {
        let yaml = """
            # leading comment
            ---
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: a
            spec:
              host: a
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: b
            spec:
              host: b
              trafficPolicy:
                loadBalancer:
                  simple: FASTEST
            """
        let result = load(yaml)
        let error = try #require(result.errors.first)
        #expect(error.field == "spec.trafficPolicy.loadBalancer.simple")
        #expect(error.source.line == 19)
        #expect(error.message.hasPrefix("Unsupported value: \"FASTEST\""))
        #expect(result.config.destinationRules.map(\.name) == ["a"])
        #expect(result.config.destinationRules[0].source == SourceLocation(file: "test.yaml", line: 4))
    }

    @Test func unknownFieldIsNamedWithItsFullPath() {
        let yaml = virtualService(
            """
              hosts: [reviews]
              http:
              - route:
                - destination:
                    host: reviews
                    subnet: v1
            """)
        expectError(yaml, at: "spec.http[0].route[0].destination.subnet", containing: "unknown field \"subnet\"")
    }

    @Test func unknownFieldSuggestsTheCamelCaseName() {
        let yaml = virtualService(
            """
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                retries:
                  attempts: 3
                  per_try_timeout: 2s
            """)
        expectError(yaml, at: "spec.http[0].retries.per_try_timeout", containing: "did you mean \"perTryTimeout\"?")
    }

    @Test func unknownTopLevelKeyIsAnError() {
        expectError("_err: x\n" + resource("PeerAuthentication", "  mtls: {mode: STRICT}"), at: "_err", containing: "unknown field")
    }

    @Test(arguments: [
        ("DestinationRule", "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting: {enabled: true}", "spec.trafficPolicy.loadBalancer.localityLbSetting"),
        ("DestinationRule", "  host: r\n  trafficPolicy:\n    tunnel: {targetHost: a, targetPort: 80}", "spec.trafficPolicy.tunnel"),
        ("DestinationRule", "  host: r\n  trafficPolicy:\n    proxyProtocol: {version: V1}", "spec.trafficPolicy.proxyProtocol"),
        ("Sidecar", "  inboundConnectionPool:\n    tcp: {maxConnections: 1}", "spec.inboundConnectionPool"),
        ("VirtualService", "  hosts: [a]\n  http:\n  - delegate: {name: b}", "spec.http[0].delegate"),
        ("Gateway", "  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialNames: [a]}", "spec.servers[0].tls.credentialNames"),
        ("AuthorizationPolicy", "  targetRef: {kind: Gateway, name: gw}", "spec.targetRef"),
    ])
    func unimplementedIstioFieldsAreRejected(kind: String, spec: String, field: String) {
        expectError(resource(kind, spec), at: field, containing: "not supported yet")
    }

    @Test func wrongTypesAreErrorsNamingTheField() {
        let yaml = resource(
            "ServiceEntry",
            """
              hosts: example.com
              ports:
              - number: "80"
                name: http
            """)
        let result = load(yaml)
        #expect(result.errors(at: "spec.hosts").first?.message == "expected list, got string \"example.com\"")
        #expect(result.errors(at: "spec.ports[0].number").first?.message == "expected integer, got string \"80\"")
        expectError(virtualService("  hosts: [a]\n  http:\n  - timeout: 10\n    route: [{destination: {host: a}}]"),
            at: "spec.http[0].timeout", containing: "expected string (quote the value), got integer 10")
        expectError(resource("WorkloadEntry", "  address: 1.2.3.4\n  labels: {version: 1}"),
            at: "spec.labels[version]", containing: "expected string")
        expectError(resource("WorkloadEntry", "  address: 1.2.3.4\n  weight: -1"),
            at: "spec.weight", containing: "must be between 0 and 4294967295")
    }

    @Test func envelopeProblemsAreReported() {
        expectError(resource("VirtualService", "  hosts: [a]", apiVersion: "networking.istio.io/v2"),
            at: "apiVersion", containing: "unsupported apiVersion \"networking.istio.io/v2\"")
        expectError(resource("PeerAuthentication", "  {}", apiVersion: "networking.istio.io/v1"),
            at: "apiVersion", containing: "expected one of security.istio.io/v1")
        expectError(resource("EnvoyFilter", "  {}"), at: "kind", containing: "unsupported kind \"EnvoyFilter\"")
        expectError("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {namespace: x}\n",
            at: "metadata.name", containing: "Required value")
        expectError("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: Bad_Name}\n",
            at: "metadata.name", containing: "lower-case RFC 1123")
        expectError("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, labels: {'a b': c}}\n",
            at: "metadata.labels", containing: "invalid label key")
    }

    @Test(arguments: ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"])
    func networkingVersionsAreAccepted(_ apiVersion: String) {
        expectValid(resource("DestinationRule", "  host: reviews", apiVersion: apiVersion))
    }

    @Test(arguments: ["security.istio.io/v1", "security.istio.io/v1beta1"])
    func securityVersionsAreAccepted(_ apiVersion: String) {
        expectValid(resource("PeerAuthentication", "  mtls: {mode: STRICT}", apiVersion: apiVersion))
    }

    @Test func mapKeysAppearInPaths() {
        expectError(virtualService("  hosts: [a]\n  http:\n  - match:\n    - headers:\n        end-user: {regex: '(?=x)'}\n    route: [{destination: {host: a}}]"),
            at: "spec.http[0].match[0].headers[end-user].regex", containing: "look-ahead")
    }
}
