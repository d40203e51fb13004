import CertificateAuthority
import Hummingbird

/// Lets a request through only with `Authorization: Bearer ADMIN-TOKEN`; answers 401 with a
/// `Status` body otherwise. The token is compared in constant time (`AdminToken.accepts`).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: AdminToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return Self.refuse("missing Authorization header: send \"Authorization: Bearer TOKEN\" (the token is DATA_DIR/admin-token)")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), token.accepts(String(header.dropFirst(prefix.count))) else {
            return Self.refuse("invalid bearer token")
        }
        return try await next(request, context)
    }

    private static func refuse(_ message: String) -> Response {
        var response = AdminRouter.text(APIError.unauthorized(message).statusJSON, status: .unauthorized)
        response.headers[.contentType] = "application/json"
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}
