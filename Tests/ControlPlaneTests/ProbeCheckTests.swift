import CertificateAuthority
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing

@testable import ControlPlane

/// Probes against real sockets on loopback: what passes, what fails, and that a workload that
/// never answers fails within the timeout.
@Suite struct ProbeCheckTests {
    @Test("httpGet passes on 200..399 and fails otherwise; path and headers are sent")
    func httpGet() async throws {
        let check = ProbeCheck()
        for (status, passes) in [(200, true), (302, true), (399, true), (404, false), (500, false)] {
            let server = try await CannedHTTPServer.start(status: status)
            let result = await check.run(
                .httpGet(host: "127.0.0.1", port: server.port, path: "/ready?x=1", https: false, headers: [.init(name: "X-Probe", value: "yes")]),
                timeoutSeconds: 1)
            #expect((result == .passed) == passes, "status \(status): \(result)")
            let request = try #require(server.requests.first)
            #expect(request.hasPrefix("GET /ready?x=1 HTTP/1.1\r\n"))
            #expect(request.lowercased().contains("x-probe: yes"))
            #expect(request.lowercased().contains("user-agent: trellis-probe"))
            try await server.stop()
        }
        try await check.shutdown()
    }

    @Test("HTTPS probes do not verify the workload's certificate")
    func https() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let authority = try CertificateAuthority.loadOrCreate(directory: directory.path, trustDomain: "cluster.local")
        let issued = try authority.issueServing(dnsNames: ["vm.example"], ipv4Addresses: ["127.0.0.1"], lifetime: 3600)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.certificateChainPEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        let server = try await CannedHTTPServer.start(status: 204, tls: try NIOSSLContext(configuration: tls))
        let check = ProbeCheck()
        let result = await check.run(.httpGet(host: "127.0.0.1", port: server.port, path: "/", https: true, headers: []), timeoutSeconds: 2)
        #expect(result == .passed, "a certificate from a CA the prober does not know: \(result)")
        try await check.shutdown()
        try await server.stop()
    }

    @Test("a workload that accepts but never answers fails the probe by its deadline")
    func timeout() async throws {
        let server = try await CannedHTTPServer.start(status: nil)
        let check = ProbeCheck()
        let result = await check.run(.httpGet(host: "127.0.0.1", port: server.port, path: "/", https: false, headers: []), timeoutSeconds: 1)
        // Not a wall-clock bound (the suite shares two cores with CPU-bound tests): the reason.
        guard case .failed(let reason) = result else {
            Issue.record("a probe that gets no answer passed")
            return
        }
        #expect(reason.lowercased().contains("deadline"), "\(reason)")
        try await check.shutdown()
        try await server.stop()
    }

    @Test("tcpSocket passes when the port accepts and fails when it refuses")
    func tcpSocket() async throws {
        let server = try await CannedHTTPServer.start(status: nil)
        let check = ProbeCheck()
        #expect(await check.run(.tcpSocket(host: "127.0.0.1", port: server.port), timeoutSeconds: 1) == .passed)
        let port = server.port
        try await server.stop()
        let refused = await check.run(.tcpSocket(host: "127.0.0.1", port: port), timeoutSeconds: 1)
        #expect(refused != .passed)
        #expect(await check.run(.httpGet(host: "127.0.0.1", port: port, path: "/", https: false, headers: []), timeoutSeconds: 1) != .passed)
        try await check.shutdown()
    }
}

/// A loopback server answering every request with a fixed status and an empty body (nil:
/// never answering), keeping what it received.
final class CannedHTTPServer: Sendable {
    let port: Int
    private let channel: any Channel
    private let log: RequestLog

    private init(channel: any Channel, log: RequestLog) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.log = log
    }

    var requests: [String] { log.requests.withLock { $0 } }

    static func start(status: Int?, tls: NIOSSLContext? = nil) async throws -> CannedHTTPServer {
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(Responder(status: status, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CannedHTTPServer(channel: channel, log: log)
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class RequestLog: Sendable {
        let requests = Mutex<[String]>([])
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let status: Int?
        let log: RequestLog
        var request = ""

        init(status: Int?, log: RequestLog) {
            self.status = status
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            request += buffer.readString(length: buffer.readableBytes) ?? ""
            guard request.contains("\r\n\r\n"), let status else { return }
            let request = self.request
            log.requests.withLock { $0.append(request) }
            let answer = "HTTP/1.1 \(status) Canned\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: answer)), promise: nil)
            context.close(promise: nil)
        }
    }
}
