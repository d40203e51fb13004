import MeshAPI
import Testing

/// What the typed specs hold after decoding, defaults included.
@Suite struct ModelDecodingTests {
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
}
