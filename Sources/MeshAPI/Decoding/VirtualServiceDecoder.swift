/// Decodes VirtualService specs, their TCP and TLS routes and the shapes routes share.
enum VirtualServiceDecoder {
    static func decode(_ spec: ObjectReader) -> VirtualService {
        VirtualService(
            hosts: spec.strings("hosts"),
            gateways: spec.strings("gateways"),
            http: spec.objects("http", HTTPRouteDecoder.httpRoute),
            tls: spec.objects("tls", tlsRoute),
            tcp: spec.objects("tcp", tcpRoute),
            exportTo: spec.strings("exportTo"))
    }

    static func destination(_ reader: ObjectReader) -> Destination? {
        Destination(
            host: reader.required("host")?.string() ?? "",
            subset: reader.string("subset"),
            port: reader.portSelector("port"))
    }

    static func routeDestination(_ reader: ObjectReader) -> RouteDestination? {
        let destination = reader.required("destination")?.object(destination)
        let weight = reader.int32("weight") ?? 0
        return destination.map { RouteDestination(destination: $0, weight: weight) }
    }

    private static func tcpRoute(_ reader: ObjectReader) -> TCPRoute? {
        TCPRoute(
            match: reader.objects("match") { match in
                match.notSupported("sourceSubnet")
                return L4MatchAttributes(
                    destinationSubnets: match.strings("destinationSubnets"), port: match.uint32("port"),
                    sourceLabels: match.stringMap("sourceLabels"), gateways: match.strings("gateways"),
                    sourceNamespace: match.string("sourceNamespace"))
            },
            route: reader.objects("route", routeDestination))
    }

    private static func tlsRoute(_ reader: ObjectReader) -> TLSRoute? {
        TLSRoute(
            match: reader.objects("match") { match in
                TLSMatchAttributes(
                    sniHosts: match.strings("sniHosts"), destinationSubnets: match.strings("destinationSubnets"),
                    port: match.uint32("port"), sourceLabels: match.stringMap("sourceLabels"),
                    gateways: match.strings("gateways"), sourceNamespace: match.string("sourceNamespace"))
            },
            route: reader.objects("route", routeDestination))
    }

    /// `{exact|prefix|regex: ...}`. An empty object decodes as `.prefix("")` (any value).
    static func stringMatch(_ cursor: YAMLCursor) -> StringMatch? {
        cursor.object { reader -> StringMatch? in
            var found: [StringMatch] = []
            if let exact = reader.string("exact") { found.append(.exact(exact)) }
            if let prefix = reader.string("prefix") { found.append(.prefix(prefix)) }
            if let regex = reader.string("regex") { found.append(.regex(regex)) }
            if found.count > 1 {
                cursor.error("only one of exact, prefix or regex may be set")
            }
            return found.first ?? .prefix("")
        }
    }

    static func headers(_ reader: ObjectReader) -> Headers? {
        func operations(_ ops: ObjectReader) -> HeaderOperations? {
            HeaderOperations(set: ops.stringMap("set"), add: ops.stringMap("add"), remove: ops.strings("remove"))
        }
        return Headers(request: reader.object("request", operations), response: reader.object("response", operations))
    }
}
