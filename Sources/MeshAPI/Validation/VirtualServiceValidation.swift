/// Istio's `ValidateVirtualService` (hosts, gateways, routes, exportTo) and its analysis of
/// rules that can never match.
enum VirtualServiceValidation {
    static func validate(_ service: VirtualService, key: ResourceKey, _ report: DocumentContext) {
        if service.hosts.isEmpty {
            report.error("spec.hosts", "Required value: virtual service must have at least one host (delegate virtual services are not supported yet)")
        }
        CommonChecks.checkGatewayNames(service.gateways, at: "spec.gateways", report)
        let appliesToMesh = service.gateways.isEmpty || service.gateways.contains("mesh")
        let appliesToGateway = service.gateways.contains { $0 != "mesh" }
        if !appliesToGateway { checkNoJWTClaimRouting(service, report) }
        checkHosts(service.hosts, appliesToMesh: appliesToMesh, report)
        if service.http.isEmpty && service.tcp.isEmpty && service.tls.isEmpty {
            report.error("spec", "http, tcp or tls must be provided in virtual service")
        }
        for (index, route) in service.http.enumerated() {
            HTTPRouteValidation.validate(route, at: "spec.http[\(index)]", report)
        }
        for (index, route) in service.tls.enumerated() {
            validate(route, hosts: service.hosts, at: "spec.tls[\(index)]", report)
        }
        for (index, route) in service.tcp.enumerated() {
            validate(route, at: "spec.tcp[\(index)]", report)
        }
        CommonChecks.checkExportTo(service.exportTo, namespace: key.namespace, isServiceEntry: false, at: "spec.exportTo", report)
        warnUnreachableRules(service.http, report)
    }

    private static func checkHosts(_ hosts: [String], appliesToMesh: Bool, _ report: DocumentContext) {
        var allValid = true
        for (index, host) in hosts.enumerated() {
            if let problem = Names.wildcardDomainProblem(host) {
                if !IPAddress.isValid(host) {
                    report.error("spec.hosts[\(index)]", problem)
                    allValid = false
                }
            } else if appliesToMesh && host == "*" {
                report.error("spec.hosts[\(index)]", "wildcard host * is not allowed for virtual services bound to the mesh gateway")
                allValid = false
            }
        }
        guard allValid else { return }
        for i in hosts.indices {
            for j in hosts.indices where j > i && HostName.overlaps(hosts[i], hosts[j]) {
                report.error("spec.hosts[\(j)]", "duplicate hosts in virtual service: \(hosts[i]) & \(hosts[j])")
            }
        }
    }

    /// JWT claims are only known after a gateway authenticated the request.
    private static func checkNoJWTClaimRouting(_ service: VirtualService, _ report: DocumentContext) {
        for (routeIndex, route) in service.http.enumerated() {
            for (matchIndex, match) in route.match.enumerated() {
                for name in (Array(match.headers.keys) + Array(match.withoutHeaders.keys)).sorted()
                where HeaderNames.isJWTClaim(name) {
                    report.error(
                        "spec.http[\(routeIndex)].match[\(matchIndex)]",
                        "JWT claim based routing (key: \(name)) is only supported for gateway, found no gateways")
                }
            }
        }
    }

    private static func validate(_ route: TLSRoute, hosts: [String], at path: String, _ report: DocumentContext) {
        if route.match.isEmpty { report.error("\(path).match", "TLS route must have at least one match condition") }
        for (index, match) in route.match.enumerated() {
            let matchPath = "\(path).match[\(index)]"
            if match.sniHosts.isEmpty {
                report.error("\(matchPath).sniHosts", "TLS match must have at least one SNI host")
            }
            for (hostIndex, sni) in match.sniHosts.enumerated() {
                checkSNIHost(sni, hosts: hosts, at: "\(matchPath).sniHosts[\(hostIndex)]", report)
            }
            for (subnetIndex, subnet) in match.destinationSubnets.enumerated() {
                if let problem = IPAddress.subnetProblem(subnet) {
                    report.error("\(matchPath).destinationSubnets[\(subnetIndex)]", problem)
                }
            }
            RouteChecks.checkMatchSource(
                sourceLabels: match.sourceLabels, gateways: match.gateways, sourceNamespace: match.sourceNamespace,
                port: match.port, at: matchPath, report)
        }
        checkDestinations(route.route, protocolName: "TLS", at: "\(path).route", report)
    }

    private static func checkSNIHost(_ sni: String, hosts: [String], at path: String, _ report: DocumentContext) {
        if let problem = Names.wildcardDomainProblem(sni) {
            if IPAddress.isValid(sni) {
                report.warning(path, "using an IP address (\"\(sni)\") goes against SNI spec and most clients do not support this")
            } else {
                report.error(path, problem)
            }
            return
        }
        if !hosts.contains(where: { HostName.isSubset(sni, of: $0) }) {
            report.error(
                path,
                "SNI host \"\(sni)\" is not a compatible subset of any of the virtual service hosts: [\(hosts.joined(separator: ", "))]")
        }
    }

    private static func validate(_ route: TCPRoute, at path: String, _ report: DocumentContext) {
        for (index, match) in route.match.enumerated() {
            let matchPath = "\(path).match[\(index)]"
            for (subnetIndex, subnet) in match.destinationSubnets.enumerated() {
                if let problem = IPAddress.subnetProblem(subnet) {
                    report.error("\(matchPath).destinationSubnets[\(subnetIndex)]", problem)
                }
            }
            RouteChecks.checkMatchSource(
                sourceLabels: match.sourceLabels, gateways: match.gateways, sourceNamespace: match.sourceNamespace,
                port: match.port, at: matchPath, report)
        }
        checkDestinations(route.route, protocolName: "TCP", at: "\(path).route", report)
    }

    private static func checkDestinations(_ destinations: [RouteDestination], protocolName: String, at path: String, _ report: DocumentContext) {
        if destinations.isEmpty { report.error(path, "\(protocolName) route is required") }
        for (index, destination) in destinations.enumerated() {
            RouteChecks.checkDestination(destination.destination, at: "\(path)[\(index)].destination", report)
        }
        RouteChecks.checkWeights(destinations.map(\.weight), at: path, report)
    }

    /// Envoy takes the first matching route, so a rule after a catch-all, or whose every match
    /// an earlier rule already has, never applies. Legal, but almost certainly a mistake.
    private static func warnUnreachableRules(_ routes: [HTTPRoute], _ report: DocumentContext) {
        var seen: [HTTPMatchRequest] = []
        var catchAll: Int?
        for (index, route) in routes.enumerated() {
            let name = route.name.map { "\"\($0)\"" } ?? "#\(index)"
            if let catchAll {
                report.warning("spec.http[\(index)]", "virtualService rule \(name) not used (rule #\(catchAll) before it matches every request)")
                continue
            }
            let matches = route.match.map { match -> HTTPMatchRequest in
                var unnamed = match
                unnamed.name = nil
                return unnamed
            }
            if matches.isEmpty || matches.contains(HTTPMatchRequest()) {
                catchAll = index
                continue
            }
            if matches.allSatisfy(seen.contains) {
                report.warning("spec.http[\(index)]", "virtualService rule \(name) not used (all matches used by prior rules)")
            }
            seen += matches
        }
    }
}
