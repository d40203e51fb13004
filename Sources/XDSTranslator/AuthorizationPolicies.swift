import EnvoyAPI
import Foundation
import MeshAPI
import SwiftProtobuf

/// AuthorizationPolicy → Envoy RBAC for one workload, in Istio's evaluation order: DENY rules
/// first (any matching DENY policy rejects), then ALLOW rules (present only when some ALLOW
/// policy applies: then a request must match one of them). Translated once per workload and
/// shared by all its inbound ports.
struct AuthorizationPolicies {
    typealias Policy = Envoy_Config_Rbac_V3_Policy
    typealias Permission = Envoy_Config_Rbac_V3_Permission
    typealias Principal = Envoy_Config_Rbac_V3_Principal
    typealias Rules = [(action: AuthorizationPolicy.Action, rbac: Envoy_Config_Rbac_V3_RBAC)]

    let policies: [Resource<AuthorizationPolicy>]
    /// `typed_per_filter_config` of an inbound HTTP route: the rules of each RBAC stage that
    /// has policies (see ``httpFilters``).
    private(set) var perRouteConfig: [String: Google_Protobuf_Any] = [:]
    /// The network RBAC filters of a TCP port (see ``tcpRule``), DENY first. Built once: a
    /// workload's every inbound chain carries the same ones.
    private(set) var networkFilters: [Envoy_Config_Listener_V3_Filter] = []

    /// The policies that select a workload: mesh-wide ones in the root namespace, namespace-wide
    /// ones, and those whose selector matches its labels.
    init(config: MeshConfig, proxy: Proxy, rootNamespace: String) {
        policies = config.authorizationPolicies.filter { policy in
            guard policy.namespace == proxy.namespace || policy.namespace == rootNamespace else { return false }
            return policy.spec.selector.map { $0.matches(proxy.labels) } ?? true
        }
        guard !policies.isEmpty else { return }
        for (action, rbac) in rules(tcp: false) {
            var filter = Envoy_Extensions_Filters_Http_Rbac_V3_RBAC()
            filter.rules = rbac
            var perRoute = Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute()
            perRoute.rbac = filter
            perRouteConfig[Self.httpFilterName(action)] = packed(perRoute)
        }
        networkFilters = rules(tcp: true).map { _, rbac in
            var config = Envoy_Extensions_Filters_Network_Rbac_V3_RBAC()
            config.rules = rbac
            config.statPrefix = "tcp."  // Istio's: the RBAC stats of every chain add up
            return OutboundListeners.networkFilter("envoy.filters.network.rbac", config)
        }
    }

    private func rules(tcp: Bool) -> Rules {
        [AuthorizationPolicy.Action.deny, .allow].compactMap { action in
            let selected = policies.filter { $0.spec.action == action }
            guard !selected.isEmpty else { return nil }
            var rbac = Envoy_Config_Rbac_V3_RBAC()
            rbac.action = action == .deny ? .deny : .allow
            for policy in selected {
                for (index, rule) in policy.spec.rules.enumerated() {
                    guard let rule = tcp ? Self.tcpRule(rule, action: action) : rule else { continue }
                    rbac.policies["ns[\(policy.namespace)]-policy[\(policy.name)]-rule[\(index)]"] = translate(rule, policyNamespace: policy.namespace)
                }
            }
            return (action, rbac)
        }
    }

    /// Istio on TCP traffic, failing closed either way: an ALLOW rule that needs an HTTP-only
    /// attribute (hosts, methods, paths, request principals, `request.*` conditions) never
    /// matches, so it is dropped; a DENY rule is checked without those attributes, so it denies
    /// more.
    static func tcpRule(_ rule: AuthorizationPolicy.Rule, action: AuthorizationPolicy.Action) -> AuthorizationPolicy.Rule? {
        func httpOnly(_ condition: AuthorizationPolicy.Condition) -> Bool {
            condition.key.hasPrefix("request.") || condition.key.hasPrefix("experimental.")
        }
        var stripped = rule
        stripped.to = rule.to.map { operation in
            var tcp = AuthorizationPolicy.Operation()
            tcp.ports = operation.ports
            tcp.notPorts = operation.notPorts
            return tcp
        }
        stripped.from = rule.from.map { source in
            var tcp = source
            tcp.requestPrincipals = []
            tcp.notRequestPrincipals = []
            return tcp
        }
        stripped.when = rule.when.filter { !httpOnly($0) }
        if action == .allow && stripped != rule { return nil }
        return stripped
    }

    /// The HTTP filter names of the two RBAC stages, which per-route configuration refers to.
    static func httpFilterName(_ action: AuthorizationPolicy.Action) -> String {
        action == .deny ? "envoy.filters.http.rbac.deny" : "envoy.filters.http.rbac.allow"
    }

    /// Every inbound HTTP chain has both RBAC stages, empty (enforcing nothing); the policies
    /// themselves live on the inbound route (``perRouteConfig``). A policy change is then an RDS
    /// update that applies to every open connection at once, where a listener change would leave
    /// connections already open on the old filter chain unchecked until Envoy drains them.
    static var httpFilters: [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        [AuthorizationPolicy.Action.deny, .allow].map {
            HTTPFilters.named(httpFilterName($0), Envoy_Extensions_Filters_Http_Rbac_V3_RBAC())
        }
    }

    // MARK: - Rules

    private func translate(_ rule: AuthorizationPolicy.Rule, policyNamespace: String) -> Policy {
        var policy = Policy()
        let operations = rule.to.map { operation($0) }
        let conditions = rule.when.map { condition($0) }
        policy.permissions = [and(rules: (operations.isEmpty ? [] : [or(rules: operations)]) + conditions.compactMap(\.permission))]
        let sources = rule.from.map { source($0, policyNamespace: policyNamespace) }
        policy.principals = [and(ids: (sources.isEmpty ? [] : [or(ids: sources)]) + conditions.compactMap(\.principal))]
        return policy
    }

    private func source(_ source: AuthorizationPolicy.Source, policyNamespace: String) -> Principal {
        var ids: [Principal] = []
        func field(_ values: [String], _ negated: [String], _ make: (String) -> Principal) {
            if !values.isEmpty { ids.append(or(ids: values.map(make))) }
            if !negated.isEmpty { ids.append(not(or(ids: negated.map(make)))) }
        }
        field(source.principals, source.notPrincipals) { authenticated(principalMatcher($0)) }
        field(source.namespaces, source.notNamespaces) { namespace($0) }
        field(source.serviceAccounts, source.notServiceAccounts) { serviceAccount($0, policyNamespace: policyNamespace) }
        field(source.trustDomains, source.notTrustDomains) { trustDomain($0) }
        field(source.ipBlocks, source.notIpBlocks) { ip($0, remote: false) }
        field(source.remoteIpBlocks, source.notRemoteIpBlocks) { ip($0, remote: true) }
        field(source.requestPrincipals, source.notRequestPrincipals) { _ in noRequestPrincipal }
        return and(ids: ids)
    }

    /// Request principals come from JWTs that a RequestAuthentication validates. Trellis serves
    /// none, so as in an Istio mesh without one, no request has a request principal:
    /// `requestPrincipals` never match and `notRequestPrincipals` always do.
    private var noRequestPrincipal: Principal { not(and(ids: [])) }

    private func namespace(_ value: String) -> Principal {
        authenticated(regexMatcher(".*/ns/\(wildcardPattern(value))/.*"))
    }

    /// `NAMESPACE/ACCOUNT`, or `ACCOUNT` in the policy's own namespace.
    private func serviceAccount(_ value: String, policyNamespace: String) -> Principal {
        let parts = value.split(separator: "/", maxSplits: 1).map(String.init)
        let (namespace, account) = parts.count == 2 ? (parts[0], parts[1]) : (policyNamespace, value)
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        matcher.suffix = "/ns/\(namespace)/sa/\(account)"
        return authenticated(matcher)
    }

    private func trustDomain(_ value: String) -> Principal {
        authenticated(regexMatcher("spiffe://\(wildcardPattern(value))/.*"))
    }

    /// An Istio value with `*` wildcards as a regular expression.
    private func wildcardPattern(_ value: String) -> String {
        value.split(separator: "*", omittingEmptySubsequences: false)
            .map { NSRegularExpression.escapedPattern(for: String($0)) }.joined(separator: ".*")
    }

    private func operation(_ operation: AuthorizationPolicy.Operation) -> Permission {
        var rules: [Permission] = []
        func field(_ values: [String], _ negated: [String], _ make: (String) -> Permission) {
            if !values.isEmpty { rules.append(or(rules: values.map(make))) }
            if !negated.isEmpty { rules.append(not(or(rules: negated.map(make)))) }
        }
        field(operation.hosts, operation.notHosts) { header(":authority", hostMatcher($0)) }
        field(operation.methods, operation.notMethods) { header(":method", exact($0)) }
        field(operation.paths, operation.notPaths) { path($0) }
        field(operation.ports, operation.notPorts) { port in
            var permission = Permission()
            permission.destinationPort = UInt32(port) ?? 0
            return permission
        }
        return and(rules: rules)
    }

    /// Every key validation accepts is translated: leaving one out would make the rule match
    /// more than it says (an ALLOW allowing too much).
    private func condition(_ condition: AuthorizationPolicy.Condition) -> (permission: Permission?, principal: Principal?) {
        let key = condition.key
        if key.hasPrefix("request.headers[") && key.hasSuffix("]") {
            let name = String(key.dropFirst("request.headers[".count).dropLast())
            return (conditionRule(condition) { header(name, wildcardMatcher($0)) }, nil)
        }

        switch key {
        case "destination.port":
            return (conditionRule(condition) { port in
                var permission = Permission()
                permission.destinationPort = UInt32(port) ?? 0
                return permission
            }, nil)
        case "source.ip": return (nil, conditionID(condition) { ip($0, remote: false) })
        case "remote.ip": return (nil, conditionID(condition) { ip($0, remote: true) })
        case "source.namespace":
            return (nil, conditionID(condition) { authenticated(regexMatcher(".*/ns/\(NSRegularExpression.escapedPattern(for: $0))/.*")) })
        case "source.principal": return (nil, conditionID(condition) { authenticated(principalMatcher($0)) })
        case "source.trustDomain": return (nil, conditionID(condition) { trustDomain($0) })
        case "destination.ip":
            return (conditionRule(condition) { block in
                var permission = Permission()
                permission.destinationIp = cidr(block)
                return permission
            }, nil)
        case "connection.sni":
            return (conditionRule(condition) { name in
                var permission = Permission()
                permission.requestedServerName = wildcardMatcher(name)
                return permission
            }, nil)
        default:
            // `request.auth.*`: attributes of a validated JWT; `experimental.envoy.filters.*`:
            // metadata of filters Trellis never configures. Absent on every request (see
            // `noRequestPrincipal`); validation admits no other key.
            return (nil, conditionID(condition) { _ in noRequestPrincipal })
        }
    }

    private func conditionRule(_ condition: AuthorizationPolicy.Condition, _ make: (String) -> Permission) -> Permission {
        var rules: [Permission] = []
        if !condition.values.isEmpty { rules.append(or(rules: condition.values.map(make))) }
        if !condition.notValues.isEmpty { rules.append(not(or(rules: condition.notValues.map(make)))) }
        return and(rules: rules)
    }

    private func conditionID(_ condition: AuthorizationPolicy.Condition, _ make: (String) -> Principal) -> Principal {
        var ids: [Principal] = []
        if !condition.values.isEmpty { ids.append(or(ids: condition.values.map(make))) }
        if !condition.notValues.isEmpty { ids.append(not(or(ids: condition.notValues.map(make)))) }
        return and(ids: ids)
    }

    // MARK: - Building blocks

    private func and(rules: [Permission]) -> Permission {
        var permission = Permission()
        if rules.isEmpty {
            permission.any = true
        } else {
            var set = Permission.Set()
            set.rules = rules
            permission.andRules = set
        }
        return permission
    }

    private func or(rules: [Permission]) -> Permission {
        var permission = Permission()
        var set = Permission.Set()
        set.rules = rules
        permission.orRules = set
        return permission
    }

    private func not(_ rule: Permission) -> Permission {
        var permission = Permission()
        permission.notRule = rule
        return permission
    }

    private func and(ids: [Principal]) -> Principal {
        var principal = Principal()
        if ids.isEmpty {
            principal.any = true
        } else {
            var set = Principal.Set()
            set.ids = ids
            principal.andIds = set
        }
        return principal
    }

    private func or(ids: [Principal]) -> Principal {
        var principal = Principal()
        var set = Principal.Set()
        set.ids = ids
        principal.orIds = set
        return principal
    }

    private func not(_ id: Principal) -> Principal {
        var principal = Principal()
        principal.notID = id
        return principal
    }

    private func authenticated(_ matcher: Envoy_Type_Matcher_V3_StringMatcher) -> Principal {
        var principal = Principal()
        var authenticated = Principal.Authenticated()
        authenticated.principalName = matcher
        principal.authenticated = authenticated
        return principal
    }

    private func ip(_ block: String, remote: Bool) -> Principal {
        var principal = Principal()
        if remote { principal.remoteIp = cidr(block) } else { principal.directRemoteIp = cidr(block) }
        return principal
    }

    /// `1.2.3.4` or `1.2.3.0/24` (IPv6 alike).
    private func cidr(_ block: String) -> Envoy_Config_Core_V3_CidrRange {
        var range = Envoy_Config_Core_V3_CidrRange()
        let parts = block.split(separator: "/", maxSplits: 1).map(String.init)
        range.addressPrefix = parts[0]
        let defaultLength: UInt32 = parts[0].contains(":") ? 128 : 32
        range.prefixLen = Google_Protobuf_UInt32Value(parts.count == 2 ? UInt32(parts[1]) ?? defaultLength : defaultLength)
        return range
    }

    private func header(_ name: String, _ matcher: Envoy_Type_Matcher_V3_StringMatcher) -> Permission {
        var header = Envoy_Config_Route_V3_HeaderMatcher()
        header.name = name
        header.stringMatch = matcher
        var permission = Permission()
        permission.header = header
        return permission
    }

    /// Istio's path values: wildcards as for any value, or a template in which `{*}` is one
    /// segment and `{**}` any number of them.
    private func path(_ value: String) -> Permission {
        var matcher = Envoy_Type_Matcher_V3_PathMatcher()
        if value.contains("{*}") || value.contains("{**}") {
            let pattern = value.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                switch segment {
                case "{*}": "[^/]+"
                case "{**}": ".*"
                default: NSRegularExpression.escapedPattern(for: String(segment))
                }
            }
            matcher.path = regexMatcher(pattern.joined(separator: "/"))
        } else {
            matcher.path = wildcardMatcher(value)
        }
        var permission = Permission()
        permission.urlPath = matcher
        return permission
    }

    private func exact(_ value: String) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        matcher.exact = value
        return matcher
    }

    private func regexMatcher(_ pattern: String) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        matcher.safeRegex = RouteMatches.regex(pattern)
        return matcher
    }

    /// Istio's string values: `*` any, `prefix*`, `*suffix`, else exact.
    private func wildcardMatcher(_ value: String) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        if value == "*" {
            matcher.safeRegex = RouteMatches.regex(".+")
        } else if value.hasSuffix("*") {
            matcher.prefix = String(value.dropLast())
        } else if value.hasPrefix("*") {
            matcher.suffix = String(value.dropFirst())
        } else {
            matcher.exact = value
        }
        return matcher
    }

    /// Principals are SPIFFE ids without the scheme in Istio's API (`cluster.local/ns/a/sa/b`).
    private func principalMatcher(_ value: String) -> Envoy_Type_Matcher_V3_StringMatcher {
        wildcardMatcher(value == "*" ? value : (value.hasPrefix("*") ? value : "spiffe://" + value))
    }

    /// Hosts match with or without a port, case-insensitively.
    private func hostMatcher(_ value: String) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = wildcardMatcher(value)
        matcher.ignoreCase = true
        return matcher
    }
}
