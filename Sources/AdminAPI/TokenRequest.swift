import Foundation

/// The body of `POST /api/tokens`: `{"namespace": NS, "serviceAccount": SA, "ttlSeconds": N}`
/// (`ttlSeconds` optional: no expiry).
struct TokenRequest: Decodable {
    var namespace: String
    var serviceAccount: String
    var ttlSeconds: Double?

    static func decode(_ body: String) throws(APIError) -> TokenRequest {
        let request: TokenRequest
        do {
            request = try JSONDecoder().decode(TokenRequest.self, from: Data(body.utf8))
        } catch {
            throw .badRequest("expected {\"namespace\", \"serviceAccount\", \"ttlSeconds\"?}: \(error)")
        }
        for (field, value) in [("namespace", request.namespace), ("serviceAccount", request.serviceAccount)] {
            guard !value.isEmpty, value.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }) else {
                throw .badRequest("\(field): \"\(value)\" must be a DNS label (lowercase letters, digits, '-')")
            }
        }
        if let ttl = request.ttlSeconds, !(ttl >= 1) { throw .badRequest("ttlSeconds: must be at least 1") }
        return request
    }
}
