/// Decodes the blocks of a DestinationRule traffic policy.
enum TrafficPolicyDecoder {
    static func loadBalancer(_ reader: ObjectReader) -> LoadBalancerSettings? {
        reader.notSupported(
            "localityLbSetting", "warmupDurationSecs", "zoneAwareLbSetting", "backendUtilization")
        let settings = LoadBalancerSettings(
            simple: reader.enumeration("simple", LoadBalancerSettings.SimpleLB.self, aliases: ["LEAST_CONN": .leastRequest]),
            consistentHash: reader.object("consistentHash", consistentHash),
            warmup: reader.object("warmup", warmup))
        if settings.simple != nil && settings.consistentHash != nil {
            reader.cursor.error("only one of simple or consistentHash may be set")
        }
        return settings
    }

    private static func consistentHash(_ reader: ObjectReader) -> ConsistentHashLB? {
        reader.notSupported("maglev")
        let hash = ConsistentHashLB(
            httpHeaderName: reader.string("httpHeaderName"),
            httpCookie: reader.object("httpCookie") { cookie in
                cookie.notSupported("attributes")
                return ConsistentHashLB.HTTPCookie(
                    name: cookie.required("name")?.string() ?? "", path: cookie.string("path"),
                    ttl: cookie.duration("ttl", allowZero: true))
            },
            useSourceIp: reader.bool("useSourceIp"),
            httpQueryParameterName: reader.string("httpQueryParameterName"),
            minimumRingSize: reader.uint64("minimumRingSize"),
            ringHash: reader.object("ringHash") { ConsistentHashLB.RingHash(minimumRingSize: $0.uint64("minimumRingSize")) })
        let keys = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"].filter(reader.contains)
        if keys.count > 1 {
            reader.cursor.error("only one hash key may be set, found \(keys.joined(separator: ", "))")
        }
        return hash
    }

    private static func warmup(_ reader: ObjectReader) -> WarmupConfiguration? {
        let duration = reader.required("duration")?.duration()
        let minimumPercent = reader.field("minimumPercent")
        let minimumValue = minimumPercent?.double()
        if let minimumPercent, let value = minimumValue, !(0...100).contains(value) {
            minimumPercent.error("Invalid value: \(value): must be between 0 and 100")
        }
        let aggression = reader.field("aggression")
        let aggressionValue = aggression?.double()
        if let aggression, let value = aggressionValue, value < 0 {
            aggression.error("Invalid value: \(value): must be greater than or equal to 0")
        }
        return duration.map { WarmupConfiguration(duration: $0, minimumPercent: minimumValue, aggression: aggressionValue) }
    }

    static func connectionPool(_ reader: ObjectReader) -> ConnectionPoolSettings? {
        ConnectionPoolSettings(
            tcp: reader.object("tcp") { tcp in
                tcp.notSupported("idleTimeout", "maxConnectionDuration")
                return ConnectionPoolSettings.TCPSettings(
                    maxConnections: tcp.int32("maxConnections"), connectTimeout: tcp.duration("connectTimeout"),
                    tcpKeepalive: tcp.object("tcpKeepalive") { keepalive in
                        ConnectionPoolSettings.TCPSettings.TcpKeepalive(
                            probes: keepalive.uint32("probes"), time: keepalive.duration("time"),
                            interval: keepalive.duration("interval"))
                    })
            },
            http: reader.object("http") { http in
                ConnectionPoolSettings.HTTPSettings(
                    http1MaxPendingRequests: http.int32("http1MaxPendingRequests"),
                    http2MaxRequests: http.int32("http2MaxRequests"),
                    maxRequestsPerConnection: http.int32("maxRequestsPerConnection"),
                    maxRetries: http.int32("maxRetries"),
                    idleTimeout: http.duration("idleTimeout"),
                    h2UpgradePolicy: http.enumeration(
                        "h2UpgradePolicy", ConnectionPoolSettings.HTTPSettings.H2UpgradePolicy.self),
                    useClientProtocol: http.bool("useClientProtocol"),
                    maxConcurrentStreams: http.int32("maxConcurrentStreams"),
                    http2KeepAlive: http.object("http2KeepAlive") { keepAlive in
                        ConnectionPoolSettings.HTTPSettings.HTTP2KeepAlive(
                            interval: keepAlive.duration("interval"), timeout: keepAlive.duration("timeout"))
                    })
            })
    }

    static func outlierDetection(_ reader: ObjectReader) -> OutlierDetection? {
        reader.notSupported("consecutiveErrors", "outlierDetectionHttpErrorCodes")
        return OutlierDetection(
            consecutive5xxErrors: reader.uint32("consecutive5xxErrors"),
            consecutiveGatewayErrors: reader.uint32("consecutiveGatewayErrors"),
            interval: reader.duration("interval"),
            baseEjectionTime: reader.duration("baseEjectionTime"),
            maxEjectionPercent: reader.int32("maxEjectionPercent"),
            minHealthPercent: reader.int32("minHealthPercent"),
            consecutiveLocalOriginFailures: reader.uint32("consecutiveLocalOriginFailures"),
            splitExternalLocalOriginErrors: reader.bool("splitExternalLocalOriginErrors"))
    }

    static func clientTLS(_ reader: ObjectReader) -> ClientTLSSettings? {
        reader.notSupported("caCrl")
        return ClientTLSSettings(
            mode: reader.enumeration("mode", ClientTLSSettings.Mode.self) ?? .disable,
            sni: reader.string("sni"),
            subjectAltNames: reader.strings("subjectAltNames"),
            credentialName: reader.string("credentialName"),
            caCertificates: reader.string("caCertificates"),
            clientCertificate: reader.string("clientCertificate"),
            privateKey: reader.string("privateKey"),
            insecureSkipVerify: reader.bool("insecureSkipVerify"))
    }
}
