import NIOCore
import NIOPosix
import Synchronization

/// The practical limit of a push: how long a bare SwiftNIO server takes to write the same number
/// of bytes to as many loopback connections, each read (and dropped) by a client. An xDS
/// server's push time divided by this is what its protocol work costs on top of moving bytes.
public enum RawTCPBaseline {
    /// Seconds from the first write until every client has read `bytes`, on `connections`
    /// connections opened beforehand (not timed).
    public static func measure(connections: Int, bytes: Int) async throws -> Double {
        let group = MultiThreadedEventLoopGroup.singleton
        let payload = ByteBuffer(repeating: 0x2a, count: max(bytes, 1))
        let accepted = Mutex<[any Channel]>([])
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.withLock { $0.append(channel) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = server.localAddress?.port ?? 0

        var done: [EventLoopFuture<Void>] = []
        var clients: [any Channel] = []
        for _ in 0..<connections {
            let reader = DiscardingReader(expected: payload.readableBytes)
            let client = try await ClientBootstrap(group: group)
                .channelInitializer { $0.pipeline.addHandler(reader) }
                .connect(host: "127.0.0.1", port: port).get()
            clients.append(client)
            done.append(reader.finished(on: client.eventLoop))
        }
        defer { for client in clients { client.close(promise: nil) } }
        while accepted.withLock({ $0.count }) < connections { try await Task.sleep(for: .milliseconds(1)) }

        let clock = ContinuousClock()
        let start = clock.now
        for channel in accepted.withLock({ $0 }) { channel.writeAndFlush(payload, promise: nil) }
        try await EventLoopFuture.andAllSucceed(done, on: group.next()).get()
        let elapsed = start.duration(to: clock.now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Counts and drops what arrives; done once `expected` bytes have.
    private final class DiscardingReader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        private let expected: Int
        private let state = Mutex<(received: Int, promise: EventLoopPromise<Void>?)>((0, nil))

        init(expected: Int) { self.expected = expected }

        func finished(on loop: any EventLoop) -> EventLoopFuture<Void> {
            let promise = loop.makePromise(of: Void.self)
            let alreadyDone = state.withLock { state -> Bool in
                state.promise = promise
                return state.received >= expected
            }
            if alreadyDone { promise.succeed() }
            return promise.futureResult
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let count = unwrapInboundIn(data).readableBytes
            let promise = state.withLock { state -> EventLoopPromise<Void>? in
                let before = state.received
                state.received += count
                return before < expected && state.received >= expected ? state.promise : nil
            }
            promise?.succeed()
        }
    }
}
