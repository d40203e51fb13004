import EnvoyAPI
import Foundation
import MeshAPI
import SwiftProtobuf

/// AuthorizationPolicy → Envoy RBAC filters for one workload, in Istio's evaluation order: a
/// DENY filter first (any matching DENY policy rejects), then an ALLOW filter (present only
/// when some ALLOW policy applies: then a request must match one of them).
struct AuthorizationPolicies {
    typealias Policy = Envoy_Config_Rbac_V3_Policy
    typealias Permission = Envoy_Config_Rbac_V3_Permission
    typealias Principal = Envoy_Config_Rbac_V3_Principal

    let policies: [Resource<AuthorizationPolicy>]

    /// The policies that select a workload: mesh-wide ones in the root namespace, namespace-wide
    /// ones, and those whose selector matches its labels.
    init(config: MeshConfig, proxy: Proxy, rootNamespace: String) {
        policies = config.authorizationPolicies.filter { policy in
            guard policy.namespace == proxy.namespace || policy.namespace == rootNamespace else { return false }
            return policy.spec.selector.map { $0.matches(proxy.labels) } ?? true
        }
    }

    /// RBAC configurations, DENY first, each keyed by its action; empty when no policy applies.
    var rules: [Envoy_Config_Rbac_V3_RBAC] {
        [AuthorizationPolicy.Action.deny, .allow].compactMap { action in
            let selected = policies.filter { $0.spec.action == action }
            guard !selected.isEmpty else { return nil }
            var rbac = Envoy_Config_Rbac_V3_RBAC()
            rbac.action = action == .deny ? .deny : .allow
            for policy in selected {
                for (index, rule) in policy.spec.rules.enumerated() {
                    rbac.policies["ns[\(policy.namespace)]-policy[\(policy.name)]-rule[\(index)]"] = translate(rule)
                }
            }
            return rbac
        }
    }

    var httpFilters: [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        rules.map { rbac in
            var config = Envoy_Extensions_Filters_Http_Rbac_V3_RBAC()
            config.rules = rbac
            return HTTPFilters.named("envoy.filters.http.rbac", config)
        }
    }

    func networkFilters(statPrefix: String) -> [Envoy_Config_Listener_V3_Filter] {
        rules.map { rbac in
            var config = Envoy_Extensions_Filters_Network_Rbac_V3_RBAC()
            config.rules = rbac
            config.statPrefix = statPrefix
            return OutboundListeners.networkFilter("envoy.filters.network.rbac", config)
        }
    }

    // MARK: - Rules

    private func translate(_ rule: AuthorizationPolicy.Rule) -> Policy {
        var policy = Policy()
        let operations = rule.to.map { operation($0) }
        let conditions = rule.when.compactMap { condition($0) }
        policy.permissions = [and(rules: (operations.isEmpty ? [] : [or(rules: operations)]) + conditions.compactMap(\.permission))]
        let sources = rule.from.map { source($0) }
        policy.principals = [and(ids: (sources.isEmpty ? [] : [or(ids: sources)]) + conditions.compactMap(\.principal))]
        return policy
    }

    private func source(_ source: AuthorizationPolicy.Source) -> Principal {
        var ids: [Principal] = []
        func field(_ values: [String], _ negated: [String], _ make: (String) -> Principal) {
            if !values.isEmpty { ids.append(or(ids: values.map(make))) }
            if !negated.isEmpty { ids.append(not(or(ids: negated.map(make)))) }
        }
        field(source.principals, source.notPrincipals) { authenticated(principalMatcher($0)) }
        field(source.namespaces, source.notNamespaces) { authenticated(regexMatcher(".*/ns/\(NSRegularExpression.escapedPattern(for: $0))/.*")) }
        field(source.ipBlocks, source.notIpBlocks) { ip($0, remote: false) }
        field(source.remoteIpBlocks, source.notRemoteIpBlocks) { ip($0, remote: true) }
        return and(ids: ids)
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

    private func condition(_ condition: AuthorizationPolicy.Condition) -> (permission: Permission?, principal: Principal?)? {
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
        default: return nil
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
        var range = Envoy_Config_Core_V3_CidrRange()
        let parts = block.split(separator: "/", maxSplits: 1).map(String.init)
        range.addressPrefix = parts[0]
        let defaultLength: UInt32 = parts[0].contains(":") ? 128 : 32
        range.prefixLen = Google_Protobuf_UInt32Value(parts.count == 2 ? UInt32(parts[1]) ?? defaultLength : defaultLength)
        var principal = Principal()
        if remote { principal.remoteIp = range } else { principal.directRemoteIp = range }
        return principal
    }

    private func header(_ name: String, _ matcher: Envoy_Type_Matcher_V3_StringMatcher) -> Permission {
        var header = Envoy_Config_Route_V3_HeaderMatcher()
        header.name = name
        header.stringMatch = matcher
        var permission = Permission()
        permission.header = header
        return permission
    }

    private func path(_ value: String) -> Permission {
        var matcher = Envoy_Type_Matcher_V3_PathMatcher()
        matcher.path = wildcardMatcher(value)
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
