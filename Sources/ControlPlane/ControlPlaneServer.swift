import AdminAPI
import CertificateAuthority
import ConfigStore
import EtcdStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import ServiceLifecycle
public import Logging
import MeshTelemetry
public import MeshAPI
import XDSServer

/// `trellis serve`: the config dir watcher, the CA, and the ADS servers (plaintext for
/// development, TLS with token authentication for workloads), until SIGTERM or SIGINT.
public struct ControlPlaneServer: Sendable {
    public struct Options: Sendable {
        public var configDirectory: String
        public var dataDirectory: String
        public var xdsAddress: HostPort
        public var secureXDSAddress: HostPort
        public var trustDomain: String
        public var workloadCertificateLifetime: TimeInterval
        /// An Istio-style plug-in CA directory; nil means the self-managed root in the data dir.
        public var pluginCADirectory: String?
        public var insecureDevIdentities: Bool
        /// Istio's mesh root namespace: its Sidecar, DestinationRule and policies apply mesh-wide.
        public var rootNamespace: String
        /// Apply a config dir that holds no resources even when resources were being served.
        public var allowEmptyConfig: Bool
        /// Config changes wait this long for the directory to be quiet...
        public var debounceAfter: Duration = .milliseconds(100)
        /// ...but never longer than this after the first change of a burst.
        public var debounceMax: Duration = .seconds(1)
        /// A stream whose proxy reads nothing for this long is closed (nil: never).
        public var streamIdleTimeout: Duration? = .seconds(60)
        /// The admin HTTP API (`--http-address`).
        public var httpAddress = HostPort(host: "127.0.0.1", port: 15014)
        /// The largest request body the admin API reads (`--max-request-bytes`).
        public var maxRequestBytes = 4 << 20
        /// How long an auto-registered WorkloadEntry outlives its proxy's last stream.
        public var workloadCleanupGrace: Duration = .seconds(10)
        /// Where the mesh's own state lives (`--store`).
        public var store: StoreLocation = .embedded
        /// This replica's name in `proxy-status` (`--replica-name`).
        public var replicaName: String = ProcessInfo.processInfo.hostName

        public init(
            configDirectory: String, dataDirectory: String, xdsAddress: HostPort,
            secureXDSAddress: HostPort = HostPort(host: "127.0.0.1", port: 15012), trustDomain: String = "cluster.local",
            workloadCertificateLifetime: TimeInterval = 86_400, pluginCADirectory: String? = nil,
            insecureDevIdentities: Bool = false, rootNamespace: String = MeshConfig.defaultRootNamespace,
            allowEmptyConfig: Bool = false
        ) {
            self.allowEmptyConfig = allowEmptyConfig
            self.configDirectory = configDirectory
            self.dataDirectory = dataDirectory
            self.xdsAddress = xdsAddress
            self.secureXDSAddress = secureXDSAddress
            self.trustDomain = trustDomain
            self.workloadCertificateLifetime = workloadCertificateLifetime
            self.pluginCADirectory = pluginCADirectory
            self.insecureDevIdentities = insecureDevIdentities
            self.rootNamespace = rootNamespace
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
        let previouslyServed = previouslyServedResources()
        let status = StatusFile(dataDirectory: options.dataDirectory, logger: logger)
        let store = try openStore()
        let authority = try await loadAuthority(store: store)
        let certificates = WorkloadCertificates(
            issuer: authority, lifetime: options.workloadCertificateLifetime, logger: logger)
        let metrics = ServerMetrics()
        let controller = MeshController(
            certificates: certificates, rootNamespace: options.rootNamespace, status: status,
            translationTime: metrics.translation, logger: logger)
        // WorkloadGroup readiness probes, set before the first configuration is applied so that
        // it already serves unprobed entries as UNHEALTHY. The controller reads the set itself.
        let prober = WorkloadProber(logger: logger) { _ in controller.workloadHealthChanged() }
        controller.setWorkloadHealth(prober)
        do {
            try await WorkloadTokens(store: store).importLegacy(dataDirectory: options.dataDirectory)
        } catch {
            throw ControlPlaneError.dataDirectory(options.dataDirectory, "cannot move tokens.json into the store: \(error)")
        }
        let wakeup = Wakeup()
        let stored = StoredConfig(store: store, wakeup: wakeup, logger: logger)
        do {
            try await stored.load()
        } catch {
            throw ControlPlaneError.dataDirectory(options.dataDirectory, "cannot read the store: \(error)")
        }
        let watcher = ConfigWatcher(
            directory: ConfigDirectory(path: options.configDirectory), controller: controller, status: status,
            logger: logger, allowEmpty: options.allowEmptyConfig, debounceAfter: options.debounceAfter,
            debounceMax: options.debounceMax, wakeup: wakeup, stored: stored)
        let progress = try watcher.loadInitial(previouslyServed: previouslyServed)
        let applied = watcher.appliedDirectoryFiles
        // One per server: every write through the API (and auto-registration) is validated
        // against the state it is written over.
        let resources = MeshResources(
            store: store, directoryFiles: { applied.current }, committed: { metrics.storeWritten() })
        let connections = ProxyConnections()
        let proxies = ConnectedProxies()
        let autoRegistration = AutoRegistration(
            resources: resources, grace: options.workloadCleanupGrace, logger: logger)
        let graph = ServiceGraph()
        let presence = (store as? any LeasingConfigStore).map {
            ReplicaPresence(store: $0, replica: options.replicaName, proxies: proxies, logger: self.logger)
        }
        let admin = try adminApplication(
            resources: resources, store: store, controller: controller, connections: connections, proxies: proxies,
            rootCertificatePEM: authority.rootCertificatePEM, graph: graph, stored: stored, presence: presence,
            status: { status.current },
            metrics: {
                metrics.render(
                    proxies: proxies.all, status: status.current, certificates: certificates.issuance,
                    storeAvailable: stored.problem == nil)
                    + IstioMetrics.render(graph)
            })

        let closer = StreamCloser()
        let plaintextAddress = options.xdsAddress
        let secureAddress = options.secureXDSAddress
        let plaintext = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: plaintextAddress.host, port: plaintextAddress.port), transportSecurity: .plaintext),
            services: [
                AggregatedDiscoveryService(
                    source: PlaintextSource(controller: controller, trustClaimedIdentities: options.insecureDevIdentities),
                    closer: closer, streamIdleTimeout: options.streamIdleTimeout, proxies: proxies, metrics: metrics.xds,
                    logger: logger),
                MetricsService(
                    sink: PlaintextStatsSink(
                        controller: controller, trustClaimedIdentities: options.insecureDevIdentities, graph: graph),
                    closer: closer, logger: logger),
            ])
        let serving: ServingCertificate
        let secureTransport: HTTP2ServerTransport.Posix.TransportSecurity
        do {
            serving = try ServingCertificate(
                authority: authority, dnsNames: ["localhost", ServingCertificate.subjectName, "istiod.istio-system.svc"],
                ipv4Addresses: [secureAddress.host], lifetime: options.workloadCertificateLifetime)
            secureTransport = try .tls(certificateReloader: serving)
        } catch {
            throw ControlPlaneError.certificateAuthority("cannot issue the secure xDS port's certificate: \(error)")
        }
        let secure = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: secureAddress.host, port: secureAddress.port), transportSecurity: secureTransport),
            services: [
                AggregatedDiscoveryService(
                    source: AuthenticatedSource(
                        controller: controller, tokens: WorkloadTokens(store: store), connections: connections,
                        autoRegistration: autoRegistration, logger: logger),
                    closer: closer, streamIdleTimeout: options.streamIdleTimeout, proxies: proxies, metrics: metrics.xds,
                    logger: logger),
                MetricsService(
                    sink: AuthenticatedStatsSink(
                        controller: controller, tokens: WorkloadTokens(store: store), graph: graph, logger: logger),
                    closer: closer, logger: logger),
            ])
        let signals = ShutdownSignals {
            plaintext.beginGracefulShutdown()
            secure.beginGracefulShutdown()
            closer.closeAll()
        }
        defer { signals.cancel() }

        let logger = self.logger
        let httpAddress = options.httpAddress
        enum Role { case server, background }
        // The admin API stops by graceful shutdown, never by cancellation: cancelling its serving
        // task while an accepted connection is still queued traps in NIO (swift-nio#2813).
        var adminConfiguration = ServiceGroupConfiguration(services: [admin], logger: logger)
        adminConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        let adminGroup = ServiceGroup(configuration: adminConfiguration)
        try await withThrowingTaskGroup(of: Role.self) { group in
            group.addTask {
                do {
                    try await adminGroup.run()
                } catch {
                    throw Self.describe(error, address: httpAddress)
                }
                return .server
            }
            for (server, address) in [(plaintext, plaintextAddress), (secure, secureAddress)] {
                group.addTask {
                    do {
                        try await server.serve()
                    } catch {
                        throw Self.describe(error, address: address)
                    }
                    return .server
                }
            }
            group.addTask {
                do {
                    _ = try await plaintext.listeningAddress
                    _ = try await secure.listeningAddress
                } catch {
                    // A server failed to start; its own task reports why.
                    return .background
                }
                logger.info("xDS server listening on \(plaintextAddress) (plaintext) and \(secureAddress) (TLS, token)")
                logger.info(
                    """
                    point an Envoy at it: trellis bootstrap --node-id sidecar~127.0.0.1~client.default~default.svc.cluster.local \
                    --xds-address \(plaintextAddress) --admin-address 127.0.0.1:15000 --metadata INTERCEPTION_MODE=NONE \
                    --output envoy.yaml && envoy -c envoy.yaml
                    """)
                await withTaskGroup(of: Void.self) { inner in
                    inner.addTask { await watcher.watch(from: progress) }
                    inner.addTask { await stored.follow() }
                    inner.addTask { await Self.maintain(controller, serving: serving, logger: logger) }
                    inner.addTask { await prober.run() }
                    inner.addTask { await TokenRevocations.follow(store: store, connections: connections, logger: logger) }
                    inner.addTask { await autoRegistration.follow { controller.config } }
                    if let presence { inner.addTask { await presence.run() } }
                }
                return .background
            }
            // A server returning means shutdown has begun: stop the others gracefully, wait for
            // all three, then everything else.
            var serversRunning = 3
            while serversRunning > 0, let role = try await group.next() {
                guard role == .server else { continue }
                serversRunning -= 1
                plaintext.beginGracefulShutdown()
                secure.beginGracefulShutdown()
                closer.closeAll()
                await adminGroup.triggerGracefulShutdown()
            }
            group.cancelAll()
        }
        logger.info("shut down")
    }

    /// Once a second: certificates due for renewal (or for another attempt after a failure) are
    /// reissued, state of departed proxies is dropped, and the secure port's certificate renewed.
    private static func maintain(_ controller: MeshController, serving: ServingCertificate, logger: Logger) async {
        var servingFailure: String?
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))  // cancellation ends the loop just below
            controller.maintain()
            do {
                if try serving.renewIfDue() {
                    logger.info("renewed the secure xDS port's certificate", metadata: ["serial": "\(serving.serialNumber)"])
                }
                servingFailure = nil
            } catch {
                // The current certificate is still valid; try again next second, say so once.
                if servingFailure != "\(error)" {
                    logger.error("cannot renew the secure xDS port's certificate: \(error); retrying")
                }
                servingFailure = "\(error)"
            }
        }
    }

    /// How many resources the data dir's last run served (its `config-status.json`), so that an
    /// empty config dir at start-up is not taken as "delete everything".
    private func previouslyServedResources() -> Int {
        let path = (options.dataDirectory as NSString).appendingPathComponent(ConfigStatus.fileName)
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return object?["servedResources"] as? Int ?? 0
        } catch {
            // Unknown is treated as "something was served": an empty config dir is then held.
            logger.warning("cannot read the previous \(path): \(error); assuming the last run served resources")
            return 1
        }
    }

    /// The plug-in CA when given; else the self-managed root: in the data dir with the
    /// embedded store, in the store (its key sealed) when replicas share etcd, with its public
    /// certificate written to `DATA_DIR/ca/root-cert.pem` for bootstraps either way.
    private func loadAuthority(store: any ConfigStore) async throws(ControlPlaneError) -> CertificateAuthority {
        let directory = (options.dataDirectory as NSString).appendingPathComponent("ca")
        switch (options.pluginCADirectory, options.store) {
        case (let plugin?, _):
            do {
                return try CertificateAuthority.loadPlugin(directory: plugin, trustDomain: options.trustDomain)
            } catch {
                throw .certificateAuthority("\(error)")
            }
        case (nil, .embedded):
            do {
                return try CertificateAuthority.loadOrCreate(directory: directory, trustDomain: options.trustDomain)
            } catch {
                throw .certificateAuthority("\(error)")
            }
        case (nil, .etcd(_, let keyFile)):
            let authority = try await StoredCertificateAuthority.loadOrCreate(
                store: store, key: try StoreKey.load(path: keyFile), trustDomain: options.trustDomain)
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try SecretFiles.write(
                    authority.rootCertificatePEM, to: (directory as NSString).appendingPathComponent("root-cert.pem"),
                    mode: 0o644)
            } catch {
                throw .dataDirectory(options.dataDirectory, "cannot write ca/root-cert.pem: \(error)")
            }
            return authority
        }
    }

    /// The embedded store, `DATA_DIR/trellis.db` (a file that is not a readable database stops
    /// the server with the reason; it is never replaced by an empty one), or etcd.
    private func openStore() throws(ControlPlaneError) -> any ConfigStore {
        switch options.store {
        case .embedded:
            let path = (options.dataDirectory as NSString).appendingPathComponent("trellis.db")
            do {
                return try SQLiteConfigStore(path: path)
            } catch {
                throw .dataDirectory(options.dataDirectory, "cannot open the store \(path): \(error)")
            }
        case .etcd(let endpoints, _):
            do {
                return try EtcdConfigStore(endpoints: endpoints, logger: logger)
            } catch {
                throw .store("cannot use etcd at \(endpoints.map(\.description).joined(separator: ",")): \(error)")
            }
        }
    }

    /// The admin API on `--http-address`, authenticated by `DATA_DIR/admin-token`.
    private func adminApplication(
        resources: MeshResources, store: any ConfigStore, controller: MeshController, connections: ProxyConnections,
        proxies: ConnectedProxies, rootCertificatePEM: String, graph: ServiceGraph, stored: StoredConfig,
        presence: ReplicaPresence?, status: @escaping @Sendable () -> ConfigStatus, metrics: @escaping @Sendable () -> String
    ) throws(ControlPlaneError) -> some ApplicationProtocol {
        let token: AdminToken
        do {
            token = try AdminToken.loadOrCreate(dataDirectory: options.dataDirectory)
        } catch {
            throw .dataDirectory(options.dataDirectory, "cannot read or create the admin token: \(error)")
        }
        var router = AdminRouter(
            resources: resources, tokens: WorkloadTokens(store: store), token: token,
            maxRequestBytes: options.maxRequestBytes,
            facts: MeshFacts(
                secureXDSAddress: options.secureXDSAddress.description, trustDomain: options.trustDomain,
                rootCertificatePEM: rootCertificatePEM),
            connections: { connections.all },
            proxies: { proxies.all.map(ProxyStatus.init) + (try await presence?.others() ?? []) },
            proxyConfig: { node, types in
                try proxies.snapshot(nodeID: node).map { try ProxyConfigJSON.render($0, types: ProxyConfigJSON.types(types)) }
            },
            metrics: metrics, diff: { try controller.preview($0) }, notReadyReason: { controller.heldReason },
            graph: { try graph.snapshot().json() }, configStatus: { try ConfigStatus.encoder.encode(status()) },
            readOnlyReason: { stored.problem })
        router.replicaName = options.replicaName
        let address = options.httpAddress
        return Application(
            router: router.build(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { [logger] _ in logger.info("admin API listening on http://\(address)") },
            logger: logger)
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
