import Foundation
import MeshAPI
import Testing

@Suite struct CrossResourceTests {
    static let reviewsRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: reviews
        spec:
          host: reviews
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        """

    static func reviewsRoute(subset: String, host: String = "reviews", namespace: String = "default") -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
          namespace: \(namespace)
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination:
                host: \(host)
                subset: \(subset)
        """
    }

    @Test func routeToUndefinedSubsetIsAnError() throws {
        let result = ConfigLoader.load([
            ConfigFile(path: "rules.yaml", contents: Self.reviewsRule),
            ConfigFile(path: "routes.yaml", contents: Self.reviewsRoute(subset: "v9")),
        ])
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(
            error.description
                == "routes.yaml:12: VirtualService default/reviews: spec.http[0].route[0].destination.subset: "
                + "subset \"v9\" is not defined by DestinationRule default/reviews for host "
                + "reviews.default.svc.cluster.local (defined: v1, v2)")
        #expect(result.rejected == [ResourceKey(kind: .virtualService, namespace: "default", name: "reviews")])
        #expect(result.config.virtualServices.isEmpty)
        #expect(result.config.destinationRules.map(\.name) == ["reviews"])
    }

    @Test(arguments: ["reviews", "reviews.default.svc.cluster.local"])
    func definedSubsetIsFineWhateverTheHostSpelling(_ host: String) {
        let result = ConfigLoader.load([
            ConfigFile(path: "rules.yaml", contents: Self.reviewsRule),
            ConfigFile(path: "routes.yaml", contents: Self.reviewsRoute(subset: "v2", host: host)),
        ])
        #expect(!result.hasErrors, "\(result.errorText)")
        #expect(result.config.virtualServices.count == 1)
    }

    @Test func shortNamesResolveInTheRulesOwnNamespace() {
        // `reviews` in namespace prod is reviews.prod..., which the default-namespace rule does not cover.
        let result = ConfigLoader.load([
            ConfigFile(path: "rules.yaml", contents: Self.reviewsRule),
            ConfigFile(path: "routes.yaml", contents: Self.reviewsRoute(subset: "v9", namespace: "prod")),
        ])
        #expect(!result.hasErrors, "\(result.errorText)")
    }

    @Test func withoutADestinationRuleSubsetsAreNotJudged() {
        expectValid(Self.reviewsRoute(subset: "v9"))
    }

    @Test func unknownHostIsOnlyAWarning() throws {
        let result = load(Self.reviewsRoute(subset: "v1"), file: "routes.yaml")
        #expect(!result.hasErrors)
        #expect(result.config.virtualServices.count == 1)
        let warning = try #require(result.warnings.first)
        #expect(
            warning.description
                == "routes.yaml:11: warning: VirtualService default/reviews: spec.http[0].route[0].destination.host: "
                + "host \"reviews.default.svc.cluster.local\" is not declared by any ServiceEntry in this config "
                + "(fine if it is a Kubernetes service)")
    }

    @Test func serviceEntryHostsSilenceTheWarning() {
        let entry = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: ext}
            spec:
              hosts: ["*.example.com", reviews]
              location: MESH_INTERNAL
              resolution: NONE
              ports: [{number: 80, name: http, protocol: HTTP}]
            """
        let route = virtualService("  hosts: [api.example.com]\n  http:\n  - route:\n    - {destination: {host: api.example.com}, weight: 50}\n    - {destination: {host: reviews}, weight: 50}")
        let result = ConfigLoader.load([ConfigFile(path: "a.yaml", contents: entry), ConfigFile(path: "b.yaml", contents: route)])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
    }

    @Test func weightsNotSummingTo100AreAWarning() {
        let result = expectValid(
            virtualService(
                "  hosts: [reviews]\n  http:\n  - route:\n    - {destination: {host: reviews}, weight: 60}\n    - {destination: {host: ratings}, weight: 30}"
            ))
        #expect(result.warnings(at: "spec.http[0].route").first?.message.contains("weights sum to 90, not 100") == true)
    }

    @Test func theLastDefinitionOfAKeyIsServedAndEarlierOnesWarned() {
        let shadowed = Self.reviewsRule.replacingOccurrences(of: "name: v1", with: "name: old")
        let result = ConfigLoader.load([
            ConfigFile(path: "a.yaml", contents: shadowed),
            ConfigFile(path: "b.yaml", contents: Self.reviewsRule),
        ])
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let warnings = result.diagnostics.filter { $0.field == "metadata.name" }
        #expect(warnings.map(\.source.file) == ["a.yaml"])
        #expect(warnings.first?.message.contains("defined again at b.yaml:") == true)
        #expect(result.config.destinationRules.map { $0.spec.subsets.map(\.name) } == [["v1", "v2"]])
    }

    @Test func aBrokenLastDefinitionRejectsTheKeyEvenAfterAGoodOne() {
        let broken = Self.reviewsRule.replacingOccurrences(of: "host: reviews", with: "host: ''")
        let result = ConfigLoader.load([
            ConfigFile(path: "a.yaml", contents: Self.reviewsRule),
            ConfigFile(path: "b.yaml", contents: broken),
        ])
        #expect(result.errors.map(\.source.file) == ["b.yaml"])
        #expect(result.rejected == [ResourceKey(kind: .destinationRule, namespace: "default", name: "reviews")])
        #expect(result.config.destinationRules.isEmpty)
    }

    @Test func fqdnFollowsIstiosShortNameRules() {
        #expect(fqdn("reviews", namespace: "default") == "reviews.default.svc.cluster.local")
        #expect(fqdn("reviews.prod.svc.cluster.local", namespace: "default") == "reviews.prod.svc.cluster.local")
        #expect(fqdn("www.example.com", namespace: "default") == "www.example.com")
        #expect(fqdn("*", namespace: "default") == "*")
        #expect(fqdn("*.example.com", namespace: "default") == "*.example.com")
        #expect(fqdn("::1", namespace: "default") == "::1")
    }

    @Test func diagnosticDescriptionFormats() {
        let key = ResourceKey(kind: .gateway, namespace: "istio-system", name: "gw")
        let location = SourceLocation(file: "gw.yaml", line: 7)
        #expect(key.description == "Gateway istio-system/gw")
        #expect(
            Diagnostic(severity: .error, source: location, key: key, field: "spec.servers[0].port", message: "bad").description
                == "gw.yaml:7: Gateway istio-system/gw: spec.servers[0].port: bad")
        #expect(
            Diagnostic(severity: .warning, source: location, key: key, field: "spec", message: "hm").description
                == "gw.yaml:7: warning: Gateway istio-system/gw: spec: hm")
        #expect(
            Diagnostic(severity: .error, source: location, key: nil, field: "", message: "invalid YAML").description
                == "gw.yaml:7: invalid YAML")
        #expect(
            Diagnostic(severity: .warning, source: location, key: nil, field: "kind", message: "x").description
                == "gw.yaml:7: warning: kind: x")
    }

    @Test func configArraysAndDiagnosticsAreSorted() {
        let result = ConfigLoader.load([
            ConfigFile(path: "b.yaml", contents: resource("Gateway", "  servers: []", name: "zeta")),
            ConfigFile(path: "a.yaml", contents: resource("DestinationRule", "  host: b", name: "b") + "\n---\n" + resource("DestinationRule", "  host: a", name: "a")),
        ])
        #expect(result.config.destinationRules.map(\.name) == ["a", "b"])
        #expect(result.diagnostics.map(\.source.file) == result.diagnostics.map(\.source.file).sorted())
        let lines = result.diagnostics.filter { $0.source.file == "a.yaml" }.map(\.source.line)
        #expect(lines == lines.sorted())
        #expect(ResourceKind.serviceEntry < .virtualService)
        #expect(ResourceKey(kind: .gateway, namespace: "a", name: "z") < ResourceKey(kind: .gateway, namespace: "b", name: "a"))
    }
}

extension LoadResult {
    func warnings(at field: String) -> [Diagnostic] {
        warnings.filter { $0.field == field }
    }
}

extension CrossResourceTests {
    @Test func wildcardRulesCoverTheirHosts() {
        let rule = resource("DestinationRule", "  host: '*.example.com'\n  subsets: [{name: v1, labels: {version: v1}}]", name: "wild")
        let route = virtualService("  hosts: [api.example.com]\n  http:\n  - route: [{destination: {host: api.example.com, subset: v2}}]")
        let result = ConfigLoader.load([ConfigFile(path: "a.yaml", contents: rule), ConfigFile(path: "b.yaml", contents: route)])
        #expect(result.errors.map(\.field) == ["spec.http[0].route[0].destination.subset"])
        #expect(result.errors.first?.message.contains("DestinationRule default/wild") == true)
    }
}
