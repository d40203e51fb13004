/// Decodes the HTTP routes of a VirtualService.
enum HTTPRouteDecoder {
    static func httpRoute(_ reader: ObjectReader) -> HTTPRoute? {
        reader.notSupported("delegate", "mirrorPercent", "mirror_percent")
        return HTTPRoute(
            name: reader.string("name"),
            match: reader.objects("match", matchRequest),
            route: reader.objects("route", routeDestination),
            redirect: reader.object("redirect", redirect),
            directResponse: reader.object("directResponse", directResponse),
            rewrite: reader.object("rewrite", rewrite),
            timeout: reader.duration("timeout"),
            retries: reader.object("retries", retry),
            fault: reader.object("fault", fault),
            mirror: reader.object("mirror", VirtualServiceDecoder.destination),
            mirrors: reader.objects("mirrors") { mirror in
                let destination = mirror.required("destination")?.object(VirtualServiceDecoder.destination)
                let percentage = mirror.object("percentage", percent)
                return destination.map { HTTPMirrorPolicy(destination: $0, percentage: percentage) }
            },
            mirrorPercentage: reader.object("mirrorPercentage", percent),
            corsPolicy: reader.object("corsPolicy", corsPolicy),
            headers: reader.object("headers", VirtualServiceDecoder.headers))
    }

    /// `{value: N}`, flattened to N.
    static func percent(_ reader: ObjectReader) -> Double? {
        reader.double("value") ?? 0
    }

    private static func matchRequest(_ reader: ObjectReader) -> HTTPMatchRequest? {
        reader.notSupported("statPrefix")
        let match = VirtualServiceDecoder.stringMatch
        // On pseudo-headers that every request carries, "any value" is the same as no condition.
        func pseudoHeader(_ name: String) -> StringMatch? {
            let value = reader.field(name).flatMap(match)
            return value == .prefix("") && reader.field(name)?.isEmptyMapping == true ? nil : value
        }
        return HTTPMatchRequest(
            name: reader.string("name"),
            uri: reader.field("uri").flatMap(match),
            scheme: pseudoHeader("scheme"),
            method: pseudoHeader("method"),
            authority: pseudoHeader("authority"),
            headers: reader.field("headers")?.map { match($1) } ?? [:],
            port: reader.uint32("port"),
            sourceLabels: reader.stringMap("sourceLabels"),
            gateways: reader.strings("gateways"),
            queryParams: reader.field("queryParams")?.map { match($1) } ?? [:],
            ignoreUriCase: reader.bool("ignoreUriCase"),
            withoutHeaders: reader.field("withoutHeaders")?.map { match($1) } ?? [:],
            sourceNamespace: reader.string("sourceNamespace"))
    }

    private static func routeDestination(_ reader: ObjectReader) -> HTTPRouteDestination? {
        let destination = reader.required("destination")?.object(VirtualServiceDecoder.destination)
        let weight = reader.int32("weight") ?? 0
        let headers = reader.object("headers", VirtualServiceDecoder.headers)
        return destination.map { HTTPRouteDestination(destination: $0, weight: weight, headers: headers) }
    }

    private static func redirect(_ reader: ObjectReader) -> HTTPRedirect? {
        reader.notSupported("derivePort", "prefixRewrite")
        return HTTPRedirect(
            uri: reader.string("uri"), authority: reader.string("authority"), port: reader.uint32("port"),
            scheme: reader.string("scheme"), redirectCode: reader.uint32("redirectCode"))
    }

    private static func directResponse(_ reader: ObjectReader) -> HTTPDirectResponse? {
        let status = reader.required("status")?.uint32()
        let body = reader.object("body") { body -> String? in
            body.notSupported("bytes")
            return body.string("string")
        }
        return HTTPDirectResponse(status: status ?? 0, body: body)
    }

    private static func rewrite(_ reader: ObjectReader) -> HTTPRewrite? {
        HTTPRewrite(
            uri: reader.string("uri"), authority: reader.string("authority"),
            uriRegexRewrite: reader.object("uriRegexRewrite") { regex in
                RegexRewrite(match: regex.string("match") ?? "", rewrite: regex.string("rewrite") ?? "")
            })
    }

    private static func retry(_ reader: ObjectReader) -> HTTPRetry? {
        reader.notSupported("backoff", "retryIgnorePreviousHosts")
        let attempts = reader.field("attempts")
        if attempts == nil {
            // Istio reads a missing count as 0, which disables retries; say so rather than
            // silently ignoring the rest of the block.
            reader.context.error(
                FieldPath.child(reader.path, "attempts"), line: reader.cursor.line,
                "Required value: retries without attempts disable retrying; set attempts (0 to disable)")
        }
        return HTTPRetry(
            attempts: attempts?.int32() ?? 0, perTryTimeout: reader.duration("perTryTimeout"),
            retryOn: reader.string("retryOn"), retryRemoteLocalities: reader.bool("retryRemoteLocalities"))
    }

    private static func fault(_ reader: ObjectReader) -> HTTPFaultInjection? {
        let delay = reader.object("delay") { delay -> HTTPFaultInjection.Delay? in
            delay.notSupported("exponentialDelay")
            return HTTPFaultInjection.Delay(
                fixedDelay: delay.duration("fixedDelay"), percentage: delay.object("percentage", percent),
                percent: delay.int32("percent"))
        }
        let abort = reader.object("abort") { abort -> HTTPFaultInjection.Abort? in
            abort.notSupported("http2Error")
            return HTTPFaultInjection.Abort(
                httpStatus: abort.int32("httpStatus"), grpcStatus: abort.string("grpcStatus"),
                percentage: abort.object("percentage", percent))
        }
        return HTTPFaultInjection(delay: delay, abort: abort)
    }

    private static func corsPolicy(_ reader: ObjectReader) -> CorsPolicy? {
        reader.notSupported("allowOrigin", "unmatchedPreflights")
        let maxAge = reader.field("maxAge")
        let maxAgeValue = maxAge?.duration()
        if let maxAge, let value = maxAgeValue, value.milliseconds % 1000 != 0 {
            maxAge.error("Invalid value: \"\(value)\": max_age duration is accurate only to seconds precision")
        }
        return CorsPolicy(
            allowOrigins: reader.list("allowOrigins", VirtualServiceDecoder.stringMatch),
            allowMethods: reader.strings("allowMethods"),
            allowHeaders: reader.strings("allowHeaders"),
            exposeHeaders: reader.strings("exposeHeaders"),
            maxAge: maxAgeValue,
            allowCredentials: reader.bool("allowCredentials"))
    }
}
