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

    @Test func defaultsFollowIstio() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: ext
              labels: {team: a}
              annotations: {note: b}
            spec:
              hosts: [api.example.com]
              addresses: [10.0.0.1]
              ports:
              - {number: 443, name: tls, protocol: tls}
              - {number: 80, name: plain}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: ext}
            spec:
              host: api.example.com
              trafficPolicy:
                tls: {sni: api.example.com}
                loadBalancer: {simple: LEAST_CONN}
            ---
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default, namespace: apps}
            spec:
              outboundTrafficPolicy: {}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-nothing}
            spec: {}
            """
        let result = load(yaml)
        #expect(!result.hasErrors, "\(result.errorText)")
        let entry = try #require(result.config.serviceEntries.first)
        #expect(entry.key == ResourceKey(kind: .serviceEntry, namespace: "default", name: "ext"))
        #expect(entry.labels == ["team": "a"] && entry.annotations == ["note": "b"])
        #expect(entry.spec.resolution == .none && entry.spec.location == .meshExternal)
        #expect(entry.spec.ports == [ServicePort(number: 443, protocol: .tls, name: "tls"), ServicePort(number: 80, protocol: .tcp, name: "plain")])
        let rule = try #require(result.config.destinationRules.first?.spec)
        #expect(rule.trafficPolicy?.tls == ClientTLSSettings(mode: .disable, sni: "api.example.com"))
        #expect(rule.trafficPolicy?.loadBalancer?.simple == .leastRequest)
        #expect(result.config.sidecars.first?.spec.outboundTrafficPolicy?.mode == .registryOnly)
        #expect(result.config.sidecars.first?.namespace == "apps")
        #expect(result.config.authorizationPolicies.first?.spec == AuthorizationPolicy(action: .allow, rules: []))
    }

    @Test func protocolNamesAreCaseInsensitive() throws {
        let yaml = resource(
            "ServiceEntry",
            """
              hosts: [a.example.com]
              addresses: [10.0.0.2]
              resolution: STATIC
              endpoints: [{address: 10.1.1.1}]
              ports:
              - {number: 1, name: a, protocol: http}
              - {number: 2, name: b, protocol: Grpc-Web}
              - {number: 3, name: c, protocol: MONGO}
              - {number: 4, name: d, protocol: Http2}
            """)
        let result = expectValid(yaml)
        let protocols = try #require(result.config.serviceEntries.first).spec.ports.map(\.protocol)
        #expect(protocols == [.http, .grpcWeb, .mongo, .http2])
        #expect(protocols.map(\.isHTTP) == [true, true, false, true])
        expectError(resource("ServiceEntry", "  hosts: [a.example.com]\n  ports: [{number: 1, name: a, protocol: SPDY}]"),
            at: "spec.ports[0].protocol", containing: "unrecognized protocol")
    }

    @Test func decodesARichVirtualService() throws {
        let yaml = virtualService(
            """
              hosts: [reviews]
              gateways: [mesh, istio-system/gw]
              exportTo: ["."]
              http:
              - name: canary
                match:
                - uri: {prefix: /api}
                  headers:
                    end-user: {exact: jason}
                    x-trace: {}
                  queryParams: {v: {regex: "[0-9]+"}}
                  method: {exact: GET}
                  port: 9080
                  sourceLabels: {app: web}
                  ignoreUriCase: true
                route:
                - destination: {host: reviews, subset: v2, port: {number: 9080}}
                  weight: 75
                  headers: {request: {set: {x-canary: "1"}}}
                - destination: {host: reviews, subset: v1}
                  weight: 25
                timeout: 1m30s
                retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,503"}
                fault:
                  delay: {fixedDelay: 100ms, percentage: {value: 10}}
                  abort: {httpStatus: 503, percentage: {value: 0.5}}
                mirror: {host: shadow}
                mirrorPercentage: {value: 5}
                corsPolicy:
                  allowOrigins: [{exact: "https://a.example.com"}]
                  allowMethods: [GET, POST]
                  maxAge: 24h
                  allowCredentials: true
                rewrite: {uri: /v2, uriRegexRewrite: null}
                headers: {response: {remove: [x-internal]}}
              - directResponse: {status: 404, body: {string: nope}}
            """)
        let result = expectValid(yaml)
        let spec = try #require(result.config.virtualServices.first).spec
        #expect(spec.gateways == ["mesh", "istio-system/gw"] && spec.exportTo == ["."])
        let route = spec.http[0]
        #expect(route.name == "canary")
        let match = route.match[0]
        #expect(match.uri == .prefix("/api"))
        #expect(match.headers == ["end-user": .exact("jason"), "x-trace": .prefix("")])
        #expect(match.queryParams == ["v": .regex("[0-9]+")])
        #expect(match.method == .exact("GET") && match.port == 9080 && match.sourceLabels == ["app": "web"])
        #expect(match.ignoreUriCase == true)
        #expect(route.route[0] == HTTPRouteDestination(
            destination: Destination(host: "reviews", subset: "v2", port: 9080), weight: 75,
            headers: Headers(request: HeaderOperations(set: ["x-canary": "1"]))))
        #expect(route.timeout == IstioDuration(milliseconds: 90_000))
        #expect(route.retries == HTTPRetry(attempts: 3, perTryTimeout: .seconds(2), retryOn: "5xx,503"))
        #expect(route.fault?.delay == HTTPFaultInjection.Delay(fixedDelay: IstioDuration(milliseconds: 100), percentage: 10))
        #expect(route.fault?.abort == HTTPFaultInjection.Abort(httpStatus: 503, percentage: 0.5))
        #expect(route.mirror == Destination(host: "shadow") && route.mirrorPercentage == 5)
        #expect(route.corsPolicy == CorsPolicy(
            allowOrigins: [.exact("https://a.example.com")], allowMethods: ["GET", "POST"], maxAge: .seconds(86_400),
            allowCredentials: true))
        #expect(route.rewrite == HTTPRewrite(uri: "/v2"))
        #expect(route.headers?.response?.remove == ["x-internal"])
        #expect(spec.http[1].directResponse == HTTPDirectResponse(status: 404, body: "nope"))
    }

    @Test func decodesTrafficPolicies() throws {
        let yaml = resource(
            "DestinationRule",
            """
              host: reviews
              workloadSelector: {matchLabels: {app: web}}
              exportTo: ["."]
              trafficPolicy:
                connectionPool:
                  tcp: {maxConnections: 100, connectTimeout: 30ms, tcpKeepalive: {time: 7200s, interval: 75s, probes: 3}}
                  http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 1, idleTimeout: 1h, h2UpgradePolicy: UPGRADE}
                outlierDetection: {consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 50}
                loadBalancer:
                  consistentHash: {httpCookie: {name: user, ttl: 0s}, ringHash: {minimumRingSize: 2048}}
                portLevelSettings:
                - port: {number: 9080}
                  tls: {mode: ISTIO_MUTUAL}
              subsets:
              - name: v1
                labels: {version: v1}
                trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
            """)
        let result = expectValid(yaml)
        let rule = try #require(result.config.destinationRules.first).spec
        #expect(rule.workloadSelector == WorkloadSelector(labels: ["app": "web"]))
        let policy = try #require(rule.trafficPolicy)
        #expect(policy.connectionPool?.tcp?.connectTimeout == IstioDuration(milliseconds: 30))
        #expect(policy.connectionPool?.tcp?.tcpKeepalive?.probes == 3)
        #expect(policy.connectionPool?.http?.h2UpgradePolicy == .upgrade)
        #expect(policy.outlierDetection?.baseEjectionTime == .seconds(900))
        #expect(policy.loadBalancer?.consistentHash?.httpCookie == ConsistentHashLB.HTTPCookie(name: "user", ttl: .seconds(0)))
        #expect(policy.loadBalancer?.consistentHash?.ringHash?.minimumRingSize == 2048)
        #expect(policy.portLevelSettings == [TrafficPolicy.PortTrafficPolicy(port: 9080, tls: ClientTLSSettings(mode: .istioMutual))])
        #expect(rule.subset(named: "v1")?.trafficPolicy?.loadBalancer?.simple == .roundRobin)
    }

    @Test func mapKeysAppearInPaths() {
        expectError(virtualService("  hosts: [a]\n  http:\n  - match:\n    - headers:\n        end-user: {regex: '(?=x)'}\n    route: [{destination: {host: a}}]"),
            at: "spec.http[0].match[0].headers[end-user].regex", containing: "look-ahead")
    }
}
