import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Runs single probes over the network, the way kubelet does: an HTTP GET on a fresh connection
/// (HTTPS without certificate verification, redirects not followed, any status in 200..<400
/// passes) or a TCP connect; each bounded by the probe's timeout. `shutdown()` before release.
final class ProbeCheck: Sendable {
    private let http: HTTPClient

    init() {
        var tls = TLSConfiguration.makeClientConfiguration()
        // Workloads serve probes with whatever certificate they have (often self-signed); the
        // probe asks "is it up", not "is it who it claims", and kubelet does not verify either.
        tls.certificateVerification = .none
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.httpVersion = .http1Only
        // A pooled connection would pass a probe without a new connection being possible.
        configuration.maximumUsesPerConnection = 1
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    func run(_ check: ProbeTarget.Check, timeoutSeconds: Int) async -> ProbeResult {
        switch check {
        case .httpGet(let host, let port, let path, let https, let headers):
            return await get(host: host, port: port, path: path, https: https, headers: headers, timeoutSeconds: timeoutSeconds)
        case .tcpSocket(let host, let port):
            return await connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        }
    }

    private func get(
        host: String, port: Int, path: String, https: Bool, headers: [ProbeTarget.Header], timeoutSeconds: Int
    ) async -> ProbeResult {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let url = "\(https ? "https" : "http")://\(authority)\(path)"
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if !request.headers.contains(name: "User-Agent") { request.headers.add(name: "User-Agent", value: "trellis-probe") }
        do {
            // The deadline covers connecting, the request and the answer's head; the body is not read.
            let response = try await http.execute(request, timeout: .seconds(Int64(timeoutSeconds)))
            let status = response.status
            return (200..<400).contains(status.code) ? .passed : .failed("GET \(url): HTTP \(status.code)")
        } catch {
            return .failed("GET \(url): \(error)")
        }
    }

    private func connect(host: String, port: Int, timeoutSeconds: Int) async -> ProbeResult {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(Int64(timeoutSeconds)))
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            channel.close(promise: nil)  // how it closes is no concern of the probe's
            return .passed
        } catch {
            return .failed("TCP \(host):\(port): \(error)")
        }
    }

    func shutdown() async throws {
        try await http.shutdown()
    }
}
