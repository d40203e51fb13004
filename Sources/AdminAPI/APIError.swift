public import MeshAPI

/// Why the admin API refused a request. Each case is one HTTP status and a Kubernetes-style
/// `Status` body naming the resource and field, so `kubectl`-minded users and scripts read
/// the same thing `trellis validate` prints.
public enum APIError: Error, Equatable, CustomStringConvertible {
    /// Malformed request: body, path, query or a field the path contradicts.
    case badRequest(String)
    /// The documents do not validate; the diagnostics are those of the request's documents.
    case invalid([Diagnostic])
    case notFound(String)
    /// A stale `resourceVersion`, or a resource the config dir defines.
    case conflict(String)
    case unauthorized(String)
    case tooLarge(Int)
    /// The store cannot be written or read now.
    case unavailable(String)

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .invalid: 422
        case .notFound: 404
        case .conflict: 409
        case .unauthorized: 401
        case .tooLarge: 413
        case .unavailable: 503
        }
    }

    /// Kubernetes' `reason` for the status.
    var reason: String {
        switch self {
        case .badRequest: "BadRequest"
        case .invalid: "Invalid"
        case .notFound: "NotFound"
        case .conflict: "Conflict"
        case .unauthorized: "Unauthorized"
        case .tooLarge: "RequestEntityTooLarge"
        case .unavailable: "ServiceUnavailable"
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let message), .notFound(let message), .conflict(let message), .unauthorized(let message),
            .unavailable(let message):
            message
        case .invalid(let diagnostics):
            diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n")
        case .tooLarge(let limit):
            "request body larger than \(limit) bytes (--max-request-bytes)"
        }
    }

    /// The `Status` object of the response body.
    public var statusJSON: String {
        var causes = ""
        if case .invalid(let diagnostics) = self {
            causes = diagnostics.map { diagnostic in
                var fields = [
                    "\"field\": \(ConfigDocuments.jsonString(diagnostic.field))",
                    "\"message\": \(ConfigDocuments.jsonString(diagnostic.message))",
                    "\"location\": \(ConfigDocuments.jsonString("\(diagnostic.source.file):\(diagnostic.source.line)"))",
                    "\"severity\": \"\(diagnostic.severity == .error ? "error" : "warning")\"",
                ]
                if let key = diagnostic.key { fields.append("\"resource\": \(ConfigDocuments.jsonString(key.description))") }
                return "{" + fields.joined(separator: ", ") + "}"
            }.joined(separator: ",\n      ")
        }
        return """
            {
              "kind": "Status",
              "apiVersion": "v1",
              "status": "Failure",
              "message": \(ConfigDocuments.jsonString(description)),
              "reason": "\(reason)",
              "code": \(status)\(causes.isEmpty ? "" : ",\n  \"details\": {\"causes\": [\n      \(causes)\n  ]}")
            }

            """
    }
}
