import EnvoyAPI
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Per-route configuration of the fault and CORS filters that every outbound HTTP connection
/// manager carries (Istio installs both and configures them per route).
enum HTTPFilterConfigs {
    static let faultFilter = "envoy.filters.http.fault"
    static let corsFilter = "envoy.filters.http.cors"

    static func fault(_ fault: HTTPFaultInjection) -> Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault {
        var config = Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()
        if let delay = fault.delay {
            var out = Envoy_Extensions_Filters_Common_Fault_V3_FaultDelay()
            if let fixed = delay.fixedDelay { out.fixedDelay = Google_Protobuf_Duration(fixed) }
            // Istio: `percentage` wins; the deprecated integer `percent` is the fallback (default 0).
            out.percentage = percentage(delay.percentage ?? Double(delay.percent ?? 0))
            config.delay = out
        }
        if let abort = fault.abort {
            var out = Envoy_Extensions_Filters_Http_Fault_V3_FaultAbort()
            if let status = abort.httpStatus { out.httpStatus = UInt32(status) }
            if let grpc = abort.grpcStatus { out.grpcStatus = grpcStatusCode(grpc) }
            // Istio: no percentage, no aborted request.
            if let value = abort.percentage { out.percentage = percentage(value) }
            config.abort = out
        }
        return config
    }

    static func cors(_ policy: CorsPolicy) -> Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy {
        var cors = Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy()
        cors.allowOriginStringMatch = policy.allowOrigins.map(RouteMatches.stringMatcher)
        cors.allowMethods = policy.allowMethods.joined(separator: ",")
        cors.allowHeaders = policy.allowHeaders.joined(separator: ",")
        cors.exposeHeaders = policy.exposeHeaders.joined(separator: ",")
        if let maxAge = policy.maxAge { cors.maxAge = String(maxAge.seconds) }
        if let credentials = policy.allowCredentials { cors.allowCredentials = Google_Protobuf_BoolValue(credentials) }
        var enabled = Envoy_Config_Core_V3_RuntimeFractionalPercent()
        var all = Envoy_Type_V3_FractionalPercent()
        all.numerator = 100
        all.denominator = .hundred
        enabled.defaultValue = all
        cors.filterEnabled = enabled
        return cors
    }

    static func percentage(_ percent: Double) -> Envoy_Type_V3_FractionalPercent {
        var fraction = Envoy_Type_V3_FractionalPercent()
        fraction.numerator = UInt32((percent * 10_000).rounded())
        fraction.denominator = .million
        return fraction
    }

    /// gRPC status names (`UNAVAILABLE`) or numbers as their codes.
    static func grpcStatusCode(_ status: String) -> UInt32 {
        if let number = UInt32(status) { return number }
        let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
            "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
            "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
        ]
        return UInt32(names.firstIndex(of: status.uppercased()) ?? 2)
    }
}
