import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import XDSServer

/// `trellis serve`: the config dir watcher and the ADS server, until SIGTERM or SIGINT.
public struct ControlPlaneServer: Sendable {
    public struct Options: Sendable {
        public var configDirectory: String
        public var dataDirectory: String
        public var xdsAddress: HostPort

        public init(configDirectory: String, dataDirectory: String, xdsAddress: HostPort) {
            self.configDirectory = configDirectory
            self.dataDirectory = dataDirectory
            self.xdsAddress = xdsAddress
        }
    }

    let options: Options
    let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        try prepareDataDirectory()
        let controller = MeshController()
        let watcher = ConfigWatcher(
            directory: ConfigDirectory(path: options.configDirectory), controller: controller, logger: logger)
        let initialFiles = try watcher.loadInitial()

        let address = options.xdsAddress
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: address.host, port: address.port), transportSecurity: .plaintext),
            services: [AggregatedDiscoveryService(source: controller, logger: logger)])
        let signals = ShutdownSignals { server.beginGracefulShutdown() }
        defer { signals.cancel() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await server.serve()
                } catch {
                    throw Self.describe(error, address: address)
                }
            }
            group.addTask {
                _ = try await server.listeningAddress
                logger.info("xDS server listening on \(address) (ADS, state of the world)")
                logger.info(
                    """
                    point an Envoy at it: trellis bootstrap --node-id sidecar~127.0.0.1~client.default~default.svc.cluster.local \
                    --xds-address \(address) --admin-address 127.0.0.1:15000 --metadata INTERCEPTION_MODE=NONE \
                    --output envoy.yaml && envoy -c envoy.yaml
                    """)
                await watcher.watch(from: initialFiles)
            }
            // serve() returns after a graceful shutdown; the watcher then has nothing to feed.
            try await group.next()
            group.cancelAll()
        }
        logger.info("shut down")
    }

    private func prepareDataDirectory() throws(ControlPlaneError) {
        do {
            try FileManager.default.createDirectory(
                atPath: options.dataDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw .dataDirectory(options.dataDirectory, (error as NSError).localizedDescription)
        }
        guard FileManager.default.isWritableFile(atPath: options.dataDirectory) else {
            throw .dataDirectory(options.dataDirectory, "not writable")
        }
    }

    private static func describe(_ error: any Error, address: HostPort) -> any Error {
        let text = String(describing: error)
        if text.contains("Address already in use") || text.contains("EADDRINUSE") {
            return ControlPlaneError.addressInUse(address.description)
        }
        return error
    }
}
