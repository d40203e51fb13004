import MeshAPI
import Testing

/// Rules from Istio's pkg/config/validation that the corpus does not cover.
@Suite struct ValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var field: String
        var message: String
        var testDescription: String { "\(field): \(message)" }
    }

    static func vs(_ spec: String) -> String { virtualService(spec) }
    static func http(_ rule: String) -> String {
        virtualService("  hosts: [reviews]\n  http:\n  - \(rule)")
    }
    static let route = "route: [{destination: {host: reviews}}]"

    static let invalid: [Case] = [
        // VirtualService
        Case(yaml: vs("  hosts: ['*']\n  http: [{\(route)}]"), field: "spec.hosts[0]", message: "wildcard host * is not allowed"),
        Case(yaml: vs("  hosts: ['*.foo.com', a.foo.com]\n  http: [{\(route)}]"), field: "spec.hosts[1]", message: "duplicate hosts in virtual service"),
        Case(yaml: vs("  hosts: []\n  http: [{\(route)}]"), field: "spec.hosts", message: "at least one host"),
        Case(yaml: vs("  hosts: [reviews]"), field: "spec", message: "http, tcp or tls must be provided"),
        Case(yaml: vs("  hosts: [reviews]\n  gateways: ['ns/']\n  http: [{\(route)}]"), field: "spec.gateways[0]", message: "cannot be empty"),
        Case(yaml: http("route: [{destination: {host: a}, weight: 0}, {destination: {host: b}, weight: 0}]"), field: "spec.http[0].route", message: "total destination weight = 0"),
        Case(yaml: http("route: [{destination: {host: a}, weight: -1}, {destination: {host: b}, weight: 101}]"), field: "spec.http[0].route[0].weight", message: "weight -1 < 0"),
        Case(yaml: http("retries: {retryOn: 5xx}\n    \(route)"), field: "spec.http[0].retries.attempts", message: "Required value"),
        Case(yaml: http("retries: {attempts: 0, perTryTimeout: 1s}\n    \(route)"), field: "spec.http[0].retries", message: "attempts are set to 0"),
        Case(yaml: http("retries: {attempts: 2, retryOn: '5xx,sometimes'}\n    \(route)"), field: "spec.http[0].retries.retryOn", message: "\"sometimes\" is not a valid retryOn policy"),
        Case(yaml: http("redirect: {uri: /x}\n    \(route)"), field: "spec.http[0]", message: "both route and redirect"),
        Case(yaml: http("match: [{uri: {exact: /}}]"), field: "spec.http[0]", message: "HTTP route, redirect or direct_response is required"),
        Case(yaml: http("redirect: {uri: /x, redirectCode: 200}"), field: "spec.http[0].redirect.redirectCode", message: "must be 3xx"),
        Case(yaml: http("directResponse: {status: 700}"), field: "spec.http[0].directResponse.status", message: "not in range 200-599"),
        Case(yaml: http("fault: {abort: {httpStatus: 99}}\n    \(route)"), field: "spec.http[0].fault.abort.httpStatus", message: "not in range"),
        Case(yaml: http("fault: {abort: {grpcStatus: NOPE}}\n    \(route)"), field: "spec.http[0].fault.abort.grpcStatus", message: "not supported"),
        Case(yaml: http("fault: {delay: {fixedDelay: 1s, percentage: {value: 101}}}\n    \(route)"), field: "spec.http[0].fault.delay.percentage.value", message: "neither 0.0, nor in range"),
        Case(yaml: http("fault: {}\n    \(route)"), field: "spec.http[0].fault", message: "must have an abort and/or a delay"),
        Case(yaml: http("mirror: {host: a}\n    mirrors: [{destination: {host: b}}]\n    \(route)"), field: "spec.http[0].mirrors", message: "cannot specify both mirror and mirrors"),
        Case(yaml: http("mirrorPercentage: {value: 150}\n    \(route)"), field: "spec.http[0].mirrorPercentage.value", message: "between 0 and 100"),
        Case(yaml: http("corsPolicy: {allowMethods: [FETCH]}\n    \(route)"), field: "spec.http[0].corsPolicy.allowMethods[0]", message: "not a supported HTTP method"),
        Case(yaml: http("headers: {request: {remove: [':path']}}\n    \(route)"), field: "spec.http[0].headers.request.remove[0]", message: "cannot have \":\" prefix"),
        Case(yaml: http("headers: {response: {set: {host: x}}}\n    \(route)"), field: "spec.http[0].headers.response.set", message: "cannot set Host header"),
        Case(yaml: http("rewrite: {authority: a}\n    headers: {request: {set: {':authority': b}}}\n    \(route)"), field: "spec.http[0].rewrite", message: "authority header cannot be set multiple times"),
        Case(yaml: http("rewrite: {}\n    \(route)"), field: "spec.http[0].rewrite", message: "at least one of URI"),
        Case(yaml: http("match: [{headers: {'bad header': {exact: x}}}]\n    \(route)"), field: "spec.http[0].match[0].headers", message: "not a valid header name"),
        Case(yaml: http("match: [{method: {prefix: ''}}]\n    \(route)"), field: "spec.http[0].match[0].method.prefix", message: "should not be empty"),
        Case(yaml: http("match: [{headers: {'@request.auth.claims.sub': {exact: x}}}]\n    \(route)"), field: "spec.http[0].match[0]", message: "only supported for gateway"),
        Case(yaml: http("match: [{sourceNamespace: Bad_NS}]\n    \(route)"), field: "spec.http[0].match[0].sourceNamespace", message: "is invalid"),
        Case(yaml: http("route: [{destination: {host: '*'}}]"), field: "spec.http[0].route[0].destination.host", message: "invalid destination host *"),
        Case(yaml: http("route: [{destination: {host: a, subset: V_1}}]"), field: "spec.http[0].route[0].destination.subset", message: "subset name is invalid"),
        Case(yaml: http("route: [{destination: {host: a, port: {number: 70000}}}]"), field: "spec.http[0].route[0].destination.port.number", message: "port must be between 1-65535"),
        Case(yaml: vs("  hosts: [a.com]\n  tls:\n  - match: [{sniHosts: [b.com]}]\n    route: [{destination: {host: a.com}}]"), field: "spec.tls[0].match[0].sniHosts[0]", message: "not a compatible subset"),
        Case(yaml: vs("  hosts: [a.com]\n  tls:\n  - route: [{destination: {host: a.com}}]"), field: "spec.tls[0].match", message: "at least one match"),
        Case(yaml: vs("  hosts: [a.com]\n  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/33]}]\n    route: [{destination: {host: a.com}}]"), field: "spec.tcp[0].match[0].destinationSubnets[0]", message: "not a valid CIDR"),
        Case(yaml: vs("  hosts: [a.com]\n  tcp:\n  - match: [{port: 80}]"), field: "spec.tcp[0].route", message: "TCP route is required"),
        Case(yaml: vs("  hosts: [a]\n  exportTo: ['*', '.']\n  http: [{\(route)}]"), field: "spec.exportTo", message: "cannot have both public (*)"),
        Case(yaml: vs("  hosts: [a]\n  exportTo: ['.', default]\n  http: [{\(route)}]"), field: "spec.exportTo[1]", message: "duplicate entries in exportTo"),
        // DestinationRule
        Case(yaml: resource("DestinationRule", "  trafficPolicy: {tls: {mode: SIMPLE}}"), field: "spec.host", message: "Required value"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {}"), field: "spec.trafficPolicy", message: "at least one field"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {connectionPool: {}}"), field: "spec.trafficPolicy.connectionPool", message: "at least one field"),
        Case(yaml: resource("DestinationRule", "  host: r\n  subsets: [{name: v1}, {name: v1}]"), field: "spec.subsets[1].name", message: "Duplicate value"),
        Case(yaml: resource("DestinationRule", "  host: r\n  subsets: [{name: ''}]"), field: "spec.subsets[0].name", message: "subset name cannot be empty"),
        Case(yaml: resource("DestinationRule", "  host: r\n  subsets: [{name: v1, labels: {'': x}}]"), field: "spec.subsets[0].labels", message: "invalid label key"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {outlierDetection: {maxEjectionPercent: 150}}"), field: "spec.trafficPolicy.outlierDetection.maxEjectionPercent", message: "not in range 0..100"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {outlierDetection: {consecutiveLocalOriginFailures: 3}}"), field: "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures", message: "split external local origin errors"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {tls: {mode: MUTUAL}}"), field: "spec.trafficPolicy.tls.clientCertificate", message: "client certificate required"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}}"), field: "spec.trafficPolicy.loadBalancer", message: "only one of simple or consistentHash"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: c}}}}"), field: "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl", message: "ttl required"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: user, httpHeaderName: x-user}}}"), field: "spec.trafficPolicy.loadBalancer.consistentHash", message: "only one hash key"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {connectionPool: {http: {http2KeepAlive: {interval: 10s}}}}"), field: "spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout", message: "Required value"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, insecureSkipVerify: true}}"), field: "spec.trafficPolicy.tls", message: "cannot specify CaCertificates"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem}}"), field: "spec.trafficPolicy.tls.privateKey", message: "private key required"),
        Case(yaml: resource("DestinationRule", "  host: r\n  trafficPolicy: {portLevelSettings: [{port: {number: 80}}]}"), field: "spec.trafficPolicy.portLevelSettings[0]", message: "at least one field"),
        Case(yaml: resource("DestinationRule", "  host: r\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: ['*']"), field: "spec.exportTo", message: "cannot have exportTo beyond current namespace"),
        // ServiceEntry
        Case(yaml: resource("ServiceEntry", "  hosts: ['*.example.com']\n  resolution: DNS"), field: "spec.hosts[0]", message: "hosts must be FQDN if no endpoints"),
        Case(yaml: resource("ServiceEntry", "  hosts: [a.com]\n  resolution: STATIC\n  endpoints: [{address: b.com}]"), field: "spec.endpoints[0].address", message: "not a valid IP address"),
        Case(yaml: resource("ServiceEntry", "  hosts: [a.com, b.com]\n  resolution: DNS\n  ports: [{number: 5432, name: pg, protocol: TCP}]"), field: "spec.hosts", message: "multiple hosts provided with non-HTTP, non-TLS ports"),
        Case(yaml: resource("ServiceEntry", "  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http}]\n  endpoints: [{address: 1.1.1.1, ports: {grpc: 81}}]"), field: "spec.endpoints[0].ports[grpc]", message: "not defined by the service entry"),
        Case(yaml: resource("ServiceEntry", "  hosts: [a.com]\n  ports: [{number: 80, name: Bad_Name}]"), field: "spec.ports[0].name", message: "invalid port name"),
        Case(yaml: resource("ServiceEntry", "  hosts: [a.com]\n  addresses: [300.1.1.1]"), field: "spec.addresses[0]", message: "not a valid IP address"),
        Case(yaml: resource("ServiceEntry", "  hosts: [a.com]\n  resolution: DYNAMIC_DNS"), field: "spec.resolution", message: "not supported yet"),
        // WorkloadEntry / WorkloadGroup
        Case(yaml: resource("WorkloadEntry", "  address: not_a_host!"), field: "spec.address", message: "not a valid FQDN or an IP address"),
        Case(yaml: resource("WorkloadEntry", "  address: 1.1.1.1\n  labels: {app: 'x y'}"), field: "spec.labels", message: "invalid label value"),
        Case(yaml: resource("WorkloadGroup", "  template: {}\n  probe: {httpGet: {port: 80, scheme: FTP}}"), field: "spec.probe.httpGet.scheme", message: "scheme must be one of"),
        Case(yaml: resource("WorkloadGroup", "  template: {}\n  probe: {httpGet: {port: 80}, tcpSocket: {port: 80}}"), field: "spec.probe", message: "only one of httpGet, tcpSocket, exec or grpc"),
        Case(yaml: resource("WorkloadGroup", "  probe: {tcpSocket: {port: 80}}"), field: "spec.template", message: "Required value"),
        // Trellis probes from the control plane: nothing can run on the workload.
        Case(yaml: resource("WorkloadGroup", "  template: {}\n  probe: {exec: {command: [cat, /tmp/ready]}}"), field: "spec.probe.exec", message: "exec probes are not supported: Trellis runs probes from the control plane, which has no agent on the workload; use httpGet or tcpSocket"),
        Case(yaml: resource("WorkloadGroup", "  template: {}\n  probe: {grpc: {port: 9090}}"), field: "spec.probe.grpc", message: "grpc probes are not supported"),
        // Gateway
        Case(yaml: resource("Gateway", "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]", name: "my.gateway"), field: "metadata.name", message: "must not contain dots"),
        Case(yaml: resource("Gateway", "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*foo.com']}]"), field: "spec.servers[0].hosts[0]", message: "partial wildcard"),
        Case(yaml: resource("Gateway", "  servers:\n  - {port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}\n  - {port: {number: 81, name: http, protocol: HTTP}, hosts: ['*']}"), field: "spec.servers[1].port.name", message: "port names in servers must be unique"),
        Case(yaml: resource("Gateway", "  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ['*']}]"), field: "spec.servers[0].tls", message: "must have TLS settings"),
        Case(yaml: resource("Gateway", "  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ['*'], tls: {mode: SIMPLE}}]"), field: "spec.servers[0].tls.serverCertificate", message: "SIMPLE TLS requires a server certificate"),
        Case(yaml: resource("Gateway", "  servers: [{port: {number: 80, name: http}, hosts: ['*']}]"), field: "spec.servers[0].port.protocol", message: "Required value"),
        Case(yaml: resource("Gateway", "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['bad ns/a.com']}]"), field: "spec.servers[0].hosts[0]", message: "invalid namespace value"),
        Case(yaml: resource("Gateway", "  servers: []"), field: "spec.servers", message: "at least one server"),
        // Sidecar
        Case(yaml: resource("Sidecar", "  egress: [{hosts: [a.com]}]"), field: "spec.egress[0].hosts[0]", message: "host must be of form namespace/dnsName"),
        Case(yaml: resource("Sidecar", "  egress: [{hosts: ['./*foo.com']}]"), field: "spec.egress[0].hosts[0]", message: "partial wildcard"),
        Case(yaml: resource("Sidecar", "  egress: [{hosts: []}]"), field: "spec.egress[0].hosts", message: "at least one host"),
        Case(yaml: resource("Sidecar", "  egress: [{hosts: ['*/*']}, {port: {number: 80}, hosts: ['*/*']}]"), field: "spec.egress[0]", message: "should be the last listener"),
        Case(yaml: resource("Sidecar", "  ingress: [{port: {number: 80}, defaultEndpoint: '10.0.0.1:80'}]"), field: "spec.ingress[0].defaultEndpoint", message: "defaultEndpoint must be of form"),
        Case(yaml: resource("Sidecar", "  workloadSelector: {labels: {}}\n  egress: [{hosts: ['*/*']}]"), field: "spec.workloadSelector.labels", message: "cannot have empty labels"),
        Case(yaml: resource("Sidecar", "  {}"), field: "spec", message: "empty configuration"),
        // Security
        Case(yaml: resource("AuthorizationPolicy", "  action: DENY"), field: "spec.rules", message: "DENY action without `rules`"),
        Case(yaml: resource("AuthorizationPolicy", "  action: CUSTOM\n  rules: [{}]"), field: "spec.provider.name", message: "must not be empty"),
        Case(yaml: resource("AuthorizationPolicy", "  provider: {name: ext}\n  rules: [{}]"), field: "spec.provider", message: "only allowed with action CUSTOM"),
        Case(yaml: resource("AuthorizationPolicy", "  action: CUSTOM\n  provider: {name: ext-authz}\n  rules: [{}]"), field: "spec.action", message: "not supported yet: action CUSTOM"),
        Case(yaml: resource("AuthorizationPolicy", "  action: AUDIT\n  rules: [{}]"), field: "spec.action", message: "not supported yet: action AUDIT"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{when: [{key: request.colour, values: [red]}]}]"), field: "spec.rules[0].when[0].key", message: "unknown attribute"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{when: [{key: request.headers, values: [x]}]}]"), field: "spec.rules[0].when[0].key", message: "should have format a[b]"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{when: [{key: source.ip}]}]"), field: "spec.rules[0].when[0]", message: "at least one of `values` or `notValues`"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{from: [{source: {ipBlocks: [1.2.3.4/40]}}]}]"), field: "spec.rules[0].from[0].source.ipBlocks[0]", message: "bad CIDR range"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{to: [{operation: {ports: ['http']}}]}]"), field: "spec.rules[0].to[0].operation.ports[0]", message: "bad port"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{to: [{operation: {paths: ['/a/{*}x']}}]}]"), field: "spec.rules[0].to[0].operation.paths[0]", message: "beyond a supported path template"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{from: [{source: {}}]}]"), field: "spec.rules[0].from[0].source", message: "must not be empty"),
        Case(yaml: resource("AuthorizationPolicy", "  rules: [{from: []}]"), field: "spec.rules[0].from", message: "must not be empty"),
        Case(yaml: resource("AuthorizationPolicy", "  selector: {matchLabels: {app: '*'}}"), field: "spec.selector.matchLabels[app]", message: "wildcard is not supported"),
        Case(yaml: resource("PeerAuthentication", "  selector: {matchLabels: {}}\n  portLevelMtls: {'8080': {mode: DISABLE}}"), field: "spec.portLevelMtls", message: "portLevelMtls requires selector"),
    ]

    @Test(arguments: invalid)
    func rejects(_ testCase: Case) {
        expectError(testCase.yaml, at: testCase.field, containing: testCase.message)
    }

    static let valid: [String] = [
        vs("  hosts: ['*']\n  gateways: [istio-system/gw]\n  http: [{\(route)}]"),
        vs("  hosts: [a.com, 10.0.0.1]\n  tcp: [{route: [{destination: {host: a.com, port: {number: 5432}}}]}]"),
        vs("  hosts: ['*.a.com']\n  tls: [{match: [{sniHosts: [x.a.com], port: 443}], route: [{destination: {host: x.a.com}}]}]"),
        http("redirect: {uri: /new, redirectCode: 308}"),
        http("directResponse: {status: 503}"),
        http("retries: {attempts: 0}\n    \(route)"),
        http("retries: {attempts: 3, retryOn: 'gateway-error,connect-failure,503'}\n    \(route)"),
        http("retries: {attempts: 3, retryRemoteLocalities: false}\n    \(route)"),
        http("retries: {attempts: 2, retryRemoteLocalities: true}\n    \(route)"),
        http("fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 0.0001}}}\n    \(route)"),
        vs("  hosts: [reviews]\n  gateways: [gw]\n  http:\n  - match: [{headers: {'@request.auth.claims.sub': {exact: x}}}]\n    \(route)"),
        http("headers: {request: {set: {host: a.example.com}, add: {x-a: b}, remove: [x-b]}}\n    \(route)"),
        resource("DestinationRule", "  host: '*.example.com'\n  trafficPolicy: {tls: {mode: SIMPLE, caCertificates: /etc/ssl/ca.pem, sni: a.example.com}}"),
        resource("DestinationRule", "  host: r\n  subsets: [{name: v1}]"),
        resource("DestinationRule", "  host: r\n  trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: user}}}"),
        resource("DestinationRule", "  host: r\n  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, subjectAltNames: [r.example.com]}}"),
        resource("DestinationRule", "  host: r\n  trafficPolicy: {connectionPool: {http: {http2KeepAlive: {timeout: 2s}}}}"),
        resource("ServiceEntry", "  hosts: [db.internal]\n  addresses: [10.0.0.0/24]\n  resolution: STATIC\n  location: MESH_INTERNAL\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n  endpoints: [{address: 10.0.0.5}, {address: 'unix:///var/run/db.sock'}]"),
        resource("ServiceEntry", "  hosts: [a.com]\n  resolution: DNS_ROUND_ROBIN\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  endpoints: [{address: lb.a.com, ports: {tls: 8443}}]"),
        resource("Gateway", "  selector: {istio: ingressgateway}\n  servers:\n  - {port: {number: 80, name: http, protocol: HTTP}, hosts: [ns1/a.com, '*.b.com'], tls: {httpsRedirect: true}}\n  - {port: {number: 443, name: https, protocol: HTTPS}, hosts: ['*'], tls: {mode: SIMPLE, credentialName: cert, minProtocolVersion: TLSV1_2}}"),
        resource("Sidecar", "  workloadSelector: {labels: {app: web}}\n  ingress: [{port: {number: 9080, protocol: HTTP, name: http}, defaultEndpoint: '127.0.0.1:8080'}]\n  egress: [{hosts: ['./*', 'istio-system/*', '~/*']}]\n  outboundTrafficPolicy: {mode: ALLOW_ANY}"),
        resource("WorkloadGroup", "  template: {}\n  probe: {periodSeconds: 1, httpGet: {port: 8080, path: /ready, scheme: HTTPS, httpHeaders: [{name: Host, value: a}]}}"),
        resource("WorkloadGroup", "  template: {}\n  probe: {tcpSocket: {port: 5432}}"),
        resource("PeerAuthentication", "  {}"),
        resource("AuthorizationPolicy", "  rules: [{}]"),
        resource("AuthorizationPolicy", "  rules: [{to: [{operation: {paths: ['/admin/{**}', '/v1/{*}/items']}}]}]"),
        resource("AuthorizationPolicy", "  action: DENY\n  rules: [{from: [{source: {notNamespaces: [prod]}}], when: [{key: 'request.headers[x-token]', notValues: [secret]}]}]"),
    ]

    @Test(arguments: valid)
    func accepts(_ yaml: String) {
        expectValid(yaml)
    }
}
