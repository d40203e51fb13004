import EnvoyAPI
import Foundation
import MeshAPI
import XDSCache
import SwiftProtobuf

/// The action parts of an Istio HTTPRoute: redirects, direct responses, rewrites, retries,
/// mirrors, and header edits (route.go in Istio).
enum RouteActions {
    static func redirect(_ redirect: HTTPRedirect) -> Envoy_Config_Route_V3_RedirectAction {
        var action = Envoy_Config_Route_V3_RedirectAction()
        if let uri = redirect.uri { action.pathRedirect = uri }
        if let authority = redirect.authority { action.hostRedirect = authority }
        if let port = redirect.port { action.portRedirect = port }
        if let scheme = redirect.scheme { action.schemeRedirect = scheme }
        switch redirect.redirectCode ?? 301 {
        case 302: action.responseCode = .found
        case 303: action.responseCode = .seeOther
        case 307: action.responseCode = .temporaryRedirect
        case 308: action.responseCode = .permanentRedirect
        default: action.responseCode = .movedPermanently
        }
        return action
    }

    static func directResponse(_ response: HTTPDirectResponse) -> Envoy_Config_Route_V3_DirectResponseAction {
        var action = Envoy_Config_Route_V3_DirectResponseAction()
        action.status = response.status
        if let body = response.body {
            var source = Envoy_Config_Core_V3_DataSource()
            source.inlineString = body
            action.body = source
        }
        return action
    }

    static func applyRewrite(_ rewrite: HTTPRewrite, to action: inout Envoy_Config_Route_V3_RouteAction) {
        if let uri = rewrite.uri { action.prefixRewrite = uri }
        if let regex = rewrite.uriRegexRewrite {
            var substitution = Envoy_Type_Matcher_V3_RegexMatchAndSubstitute()
            substitution.pattern = RouteMatches.regex(regex.match)
            substitution.substitution = regex.rewrite
            action.regexRewrite = substitution
        }
        if let authority = rewrite.authority { action.hostRewriteLiteral = authority }
    }

    /// Istio's retry translation: `attempts` counts retries after the first try; 0 disables
    /// retries; a user `retryOn` replaces the default list and its numbers become status codes.
    /// With consistent hashing no retry avoids the previous host, the default policy included
    /// (Istio's DefaultConsistentHashPolicy): the hashed endpoint is where the request belongs.
    /// `retryRemoteLocalities` lets retries leave the priority (locality) that already failed.
    static func retryPolicy(_ retry: HTTPRetry?, consistentHashing: Bool) -> Envoy_Config_Route_V3_RetryPolicy? {
        var policy = RetryPolicies.istioDefault
        if consistentHashing { policy.retryHostPredicate = [] }
        guard let retry else { return policy }
        guard retry.attempts > 0 else { return nil }
        policy.numRetries = Google_Protobuf_UInt32Value(UInt32(retry.attempts))
        if let retryOn = retry.retryOn {
            var conditions: [String] = []
            var codes: [UInt32] = []
            for item in retryOn.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                if let code = UInt32(item) { codes.append(code) } else { conditions.append(item) }
            }
            if !codes.isEmpty && !conditions.contains("retriable-status-codes") {
                conditions.append("retriable-status-codes")
            }
            policy.retryOn = conditions.joined(separator: ",")
            policy.retriableStatusCodes = codes
        }
        if let perTry = retry.perTryTimeout { policy.perTryTimeout = Google_Protobuf_Duration(perTry) }
        if retry.retryRemoteLocalities == true { policy.retryPriority = RetryPolicies.previousPriorities }
        return policy
    }

    /// `value` percent as Envoy's fraction per million (Istio: value × 10000).
    static func fraction(percent: Double) -> Envoy_Config_Core_V3_RuntimeFractionalPercent {
        var fraction = Envoy_Type_V3_FractionalPercent()
        fraction.numerator = UInt32((percent * 10_000).rounded())
        fraction.denominator = .million
        var runtime = Envoy_Config_Core_V3_RuntimeFractionalPercent()
        runtime.defaultValue = fraction
        return runtime
    }

    static func mirror(cluster: String, percent: Double?) -> Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy? {
        let percent = percent ?? 100
        guard percent > 0 else { return nil }
        var policy = Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy()
        policy.cluster = cluster
        policy.runtimeFraction = fraction(percent: percent)
        policy.traceSampled = Google_Protobuf_BoolValue(false)
        policy.disableShadowHostSuffixAppend = true
        return policy
    }

    /// `set` overwrites, `add` appends, `remove` removes.
    static func headersToAdd(_ operations: HeaderOperations?) -> [Envoy_Config_Core_V3_HeaderValueOption] {
        guard let operations else { return [] }
        func option(_ key: String, _ value: String, _ action: Envoy_Config_Core_V3_HeaderValueOption.HeaderAppendAction)
            -> Envoy_Config_Core_V3_HeaderValueOption
        {
            var option = Envoy_Config_Core_V3_HeaderValueOption()
            option.header.key = key
            option.header.value = value
            option.appendAction = action
            return option
        }
        let hostKeys: Set<String> = ["host", ":authority"]
        return operations.set.keys.sorted().filter { !hostKeys.contains($0.lowercased()) }.map {
            option($0, operations.set[$0]!, .overwriteIfExistsOrAdd)
        }
            + operations.add.keys.sorted().filter { !hostKeys.contains($0.lowercased()) }.map {
                option($0, operations.add[$0]!, .appendIfExistsOrAdd)
            }
    }

    /// A `host`/`:authority` header in set or add is a host rewrite in Envoy.
    static func hostRewrite(_ operations: HeaderOperations?) -> String? {
        guard let operations else { return nil }
        for (key, value) in operations.set.merging(operations.add, uniquingKeysWith: { a, _ in a })
        where ["host", ":authority"].contains(key.lowercased()) {
            return value
        }
        return nil
    }
}
