import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Istio's HTTPMatchRequest → Envoy RouteMatch (TranslateRouteMatch in Istio): header matchers
/// sorted by name, then `:method`, `:authority`, `:scheme`; case sensitivity always explicit.
enum RouteMatches {
    typealias RouteMatch = Envoy_Config_Route_V3_RouteMatch
    typealias HeaderMatcher = Envoy_Config_Route_V3_HeaderMatcher

    static var catchAll: RouteMatch {
        var match = RouteMatch()
        match.prefix = "/"
        match.caseSensitive = Google_Protobuf_BoolValue(true)
        return match
    }

    static func match(_ request: HTTPMatchRequest) -> RouteMatch {
        var match = RouteMatch()
        switch request.uri {
        case .exact(let path)?: match.path = path
        case .prefix(let prefix)?: match.prefix = prefix
        case .regex(let pattern)?: match.safeRegex = regex(pattern)
        case nil: match.prefix = "/"
        }
        match.caseSensitive = Google_Protobuf_BoolValue(!(request.ignoreUriCase ?? false))
        var headers = request.headers.keys.sorted().map { header($0, request.headers[$0]!) }
        headers += request.withoutHeaders.keys.sorted().map { name in
            var matcher = header(name, request.withoutHeaders[name]!)
            matcher.invertMatch = true
            // Envoy never matches a value matcher on a missing header, inverted or not; a
            // request without the header must match `withoutHeaders`, so it counts as empty.
            if case .stringMatch? = matcher.headerMatchSpecifier { matcher.treatMissingHeaderAsEmpty = true }
            return matcher
        }
        if let method = request.method { headers.append(header(":method", method)) }
        if let authority = request.authority { headers.append(header(":authority", authority)) }
        if let scheme = request.scheme { headers.append(header(":scheme", scheme)) }
        match.headers = headers
        match.queryParameters = request.queryParams.keys.sorted().map { name in
            var matcher = Envoy_Config_Route_V3_QueryParameterMatcher()
            matcher.name = name
            switch request.queryParams[name]! {
            case .exact(let value) where value.isEmpty: matcher.presentMatch = true
            case let value: matcher.stringMatch = stringMatcher(value)
            }
            return matcher
        }
        return match
    }

    /// Whether a match takes every request, so that later routes can never be reached.
    static func isCatchAll(_ request: HTTPMatchRequest) -> Bool {
        let uriMatchesAll: Bool
        switch request.uri {
        case nil: uriMatchesAll = true
        case .prefix(let prefix)?: uriMatchesAll = prefix == "/"
        case .regex(let pattern)?: uriMatchesAll = pattern == "*" || pattern == ".*"
        default: uriMatchesAll = false
        }
        return uriMatchesAll && request.headers.isEmpty && request.withoutHeaders.isEmpty
            && request.queryParams.isEmpty && request.method == nil && request.authority == nil
            && request.scheme == nil && request.port == nil && request.sourceLabels.isEmpty
    }

    static func header(_ name: String, _ value: StringMatch) -> HeaderMatcher {
        var matcher = HeaderMatcher()
        matcher.name = name
        switch value {
        case .regex("*"), .exact(""), .prefix(""):
            // Istio: an empty match or regex "*" means "the header is present".
            matcher.presentMatch = true
        default:
            matcher.stringMatch = stringMatcher(value)
        }
        return matcher
    }

    static func stringMatcher(_ value: StringMatch) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        switch value {
        case .exact(let text): matcher.exact = text
        case .prefix(let text): matcher.prefix = text
        case .regex(let pattern): matcher.safeRegex = regex(pattern)
        }
        return matcher
    }

    static func regex(_ pattern: String) -> Envoy_Type_Matcher_V3_RegexMatcher {
        var matcher = Envoy_Type_Matcher_V3_RegexMatcher()
        matcher.regex = pattern
        return matcher
    }
}
