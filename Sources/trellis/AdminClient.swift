import ArgumentParser
import AsyncHTTPClient
import CertificateAuthority
import Foundation
import NIOCore
import NIOHTTP1

/// The options every command that talks to the admin API shares.
struct AdminConnection: ParsableArguments {
    @Option(name: .customLong("server"), help: "URL of the admin API of `trellis serve`.")
    var server: String = "http://127.0.0.1:15014"

    @Option(name: .customLong("token-file"), help: "File holding the admin token (the server's DATA_DIR/admin-token).")
    var tokenFile: String?

    @Option(name: .customLong("data-dir"), help: "The server's data dir, to read its admin-token (when neither --token-file nor TRELLIS_TOKEN is given).")
    var dataDirectory: String?

    var client: AdminClient { AdminClient(server: server, token: Self.token(tokenFile: tokenFile, dataDirectory: dataDirectory)) }

    /// `--token-file`, else `TRELLIS_TOKEN`, else the data dir's `admin-token`.
    static func token(tokenFile: String?, dataDirectory: String?) -> String {
        if let tokenFile { return readToken(tokenFile) }
        if let token = ProcessInfo.processInfo.environment["TRELLIS_TOKEN"], !token.isEmpty { return token }
        if let dataDirectory {
            return readToken((dataDirectory as NSString).appendingPathComponent(AdminToken.fileName))
        }
        failAndExit("no admin token: pass --token-file FILE, set TRELLIS_TOKEN, or pass --data-dir of the server")
    }

    private static func readToken(_ path: String) -> String {
        do {
            return try AdminToken.read(path)
        } catch {
            failAndExit("cannot read the admin token: \(error)")
        }
    }
}

/// One answer of the admin API.
struct AdminResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: String

    var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as the server wrote it (`-o json|yaml`), ending in one newline.
    func printBody() {
        print(body, terminator: body.hasSuffix("\n") ? "" : "\n")
    }

    /// The `message` of a `Status` body (or the body itself), as kubectl prints errors.
    var errorMessage: String {
        // Not a Status body (a proxy in between, say): the body as it came.
        let status = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let reason = status?["reason"] as? String ?? String(self.status)
        return "Error from server (\(reason)): \(status?["message"] as? String ?? body)"
    }
}

/// A small client of the admin API for the CLI.
struct AdminClient {
    let server: String
    let token: String

    func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/yaml",
        headers extra: [(String, String)] = []
    ) async -> AdminResponse {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        // A server that is not there is an error at once, not connection attempts until the deadline.
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(60)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: Result<AdminResponse, any Error>
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let collected = try await response.body.collect(upTo: 256 << 20)
            result = .success(
                AdminResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: collected)))
        } catch {
            result = .failure(error)
        }
        try? await client.shutdown()  // the process ends next; the request's outcome is what matters
        switch result {
        case .success(let response): return response
        case .failure(let error): failAndExit("cannot reach the admin API at \(server): \(error)")
        }
    }
}
