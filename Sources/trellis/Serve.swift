import ArgumentParser
import ControlPlane
import Foundation
import Logging
import MeshAPI

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the control plane: watch a directory of Istio YAML and serve it to Envoys over ADS.")

    @Option(name: .customLong("config-dir"), help: "Directory of Istio resources (YAML), watched for edits.")
    var configDirectory: String

    @Option(name: .customLong("data-dir"), help: "Directory for Trellis' own state: the store (trellis.db: resources applied through the API), the admin token, the CA (ca/), token hashes (tokens.json), config-status.json.")
    var dataDirectory: String

    @Option(name: .customLong("xds-address"), help: "HOST:PORT of the plaintext xDS (ADS) server.")
    var xdsAddress: String = "127.0.0.1:15010"

    @Option(name: .customLong("secure-xds-address"), help: "HOST:PORT of the TLS xDS server (bearer-token authenticated).")
    var secureXDSAddress: String = "127.0.0.1:15012"

    @Option(name: .customLong("trust-domain"), help: "SPIFFE trust domain of workload identities.")
    var trustDomain: String = "cluster.local"

    @Option(name: .customLong("workload-cert-ttl"), help: "Lifetime of workload certificates (Go duration, e.g. 24h, 45s).")
    var workloadCertTTL: String = "24h"

    @Option(name: .customLong("ca-dir"), help: "Plug-in CA: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem (like Istio's cacerts).")
    var caDirectory: String?

    @Option(name: .customLong("root-namespace"), help: "Istio's mesh root namespace: its Sidecar, DestinationRule, PeerAuthentication and AuthorizationPolicy apply mesh-wide.")
    var rootNamespace: String = MeshConfig.defaultRootNamespace

    @Flag(name: .customLong("insecure-dev-identities"), help: "Give proxies on the plaintext port certificates for the identity they claim (development only).")
    var insecureDevIdentities = false

    @Flag(name: .customLong("allow-empty-config"), help: "Apply a config dir that holds no resources even when resources are being served (by default that is taken for an unmounted volume or a wrong path, and the last good configuration keeps serving).")
    var allowEmptyConfig = false

    @Option(name: .customLong("debounce-after"), help: "Apply config changes once the config dir has been quiet this long (Go duration).")
    var debounceAfter: String = "100ms"

    @Option(name: .customLong("debounce-max"), help: "The longest a burst of config changes can delay the first of them (Go duration).")
    var debounceMax: String = "1s"

    @Option(name: .customLong("stream-idle-timeout"), help: "Close a proxy's stream when it reads nothing for this long, so a stuck proxy holds nothing (Go duration; 0 never closes).")
    var streamIdleTimeout: String = "60s"

    @Option(name: .customLong("http-address"), help: "HOST:PORT of the admin HTTP API (apply/get/delete, health).")
    var httpAddress: String = "127.0.0.1:15014"

    @Option(name: .customLong("max-request-bytes"), help: "The largest request body the admin API reads; larger ones get 413.")
    var maxRequestBytes: Int = 4 << 20

    @Option(name: .customLong("workload-cleanup-grace"), help: "How long an auto-registered WorkloadEntry (WorkloadGroup, WORKLOAD_GROUP metadata) outlives its proxy's last stream (Go duration).")
    var workloadCleanupGrace: String = "10s"

    @Option(
        name: .customLong("store"),
        help: "Where the mesh's own state lives: sqlite (DATA_DIR/trellis.db, one server) or etcd://HOST:PORT[,HOST:PORT...] (shared by replicas).")
    var store: String?

    @Option(
        name: .customLong("store-key-file"),
        help: "With --store etcd://: the key (one line, 32 random bytes in base64, mode 0600, the same file for every replica) that seals the CA's key in etcd.")
    var storeKeyFile: String?

    @Option(name: .customLong("replica-name"), help: "This replica's name in proxy-status (default: HOSTNAME:SECURE-XDS-PORT).")
    var replicaName: String?

    @Option(name: .customLong("log-format"), help: "text (one line per event) or json (one JSON object per line).")
    var logFormat: String = "text"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        _ = try parseAddress(xdsAddress, flag: "--xds-address")
        _ = try parseAddress(secureXDSAddress, flag: "--secure-xds-address")
        _ = try parseAddress(httpAddress, flag: "--http-address")
        guard maxRequestBytes > 0 else { throw ValidationError("--max-request-bytes must be positive") }
        _ = try parseDuration(workloadCertTTL, flag: "--workload-cert-ttl")
        _ = try idleTimeout()
        let after = try parseShortDuration(debounceAfter, flag: "--debounce-after")
        guard after <= (try parseShortDuration(debounceMax, flag: "--debounce-max")) else {
            throw ValidationError("--debounce-after (\(debounceAfter)) must not be longer than --debounce-max (\(debounceMax))")
        }
        _ = try parseShortDuration(workloadCleanupGrace, flag: "--workload-cleanup-grace")
        try checkRootNamespace(rootNamespace)
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
        do {
            _ = try StoreLocation.parse(store, keyFile: storeKeyFile)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--stream-idle-timeout`, nil for `0`.
    private func idleTimeout() throws -> Duration? {
        ["0", "0s"].contains(streamIdleTimeout) ? nil : try parseShortDuration(streamIdleTimeout, flag: "--stream-idle-timeout")
    }

    func run() async throws {
        if logFormat == "json" {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        } else {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        }
        var logger = Logger(label: "trellis")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var options = ControlPlaneServer.Options(
            configDirectory: configDirectory, dataDirectory: dataDirectory,
            xdsAddress: try parseAddress(xdsAddress, flag: "--xds-address"),
            secureXDSAddress: try parseAddress(secureXDSAddress, flag: "--secure-xds-address"),
            trustDomain: trustDomain,
            workloadCertificateLifetime: try parseDuration(workloadCertTTL, flag: "--workload-cert-ttl"),
            pluginCADirectory: caDirectory, insecureDevIdentities: insecureDevIdentities, rootNamespace: rootNamespace,
            allowEmptyConfig: allowEmptyConfig)
        options.debounceAfter = try parseShortDuration(debounceAfter, flag: "--debounce-after")
        options.debounceMax = try parseShortDuration(debounceMax, flag: "--debounce-max")
        options.streamIdleTimeout = try idleTimeout()
        options.httpAddress = try parseAddress(httpAddress, flag: "--http-address")
        options.maxRequestBytes = maxRequestBytes
        options.workloadCleanupGrace = try parseShortDuration(workloadCleanupGrace, flag: "--workload-cleanup-grace")
        options.store = try StoreLocation.parse(store, keyFile: storeKeyFile)
        options.replicaName = replicaName ?? "\(ProcessInfo.processInfo.hostName):\(options.secureXDSAddress.port)"
        do {
            try await ControlPlaneServer(options: options, logger: logger).run()
        } catch let error as ControlPlaneError {
            failAndExit(error.description)
        }
    }
}

/// `--root-namespace` must be a namespace name.
func checkRootNamespace(_ namespace: String) throws {
    guard !namespace.isEmpty, namespace.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
        throw ValidationError("--root-namespace '\(namespace)' must be a namespace name (lowercase letters, digits, '-')")
    }
}

/// Parses a HOST:PORT flag, naming the flag in the error.
/// A repeated HOST:PORT option (one per control-plane replica); the same address twice is refused.
func parseAddresses(_ texts: [String], flag: String) throws -> [HostPort] {
    let addresses = try texts.map { try parseAddress($0, flag: flag) }
    guard Set(addresses.map(\.description)).count == addresses.count else {
        throw ValidationError("\(flag): the same address is given twice (\(texts.joined(separator: ", ")))")
    }
    return addresses
}

func parseAddress(_ text: String, flag: String) throws -> HostPort {
    do {
        return try HostPort(parsing: text)
    } catch {
        throw ValidationError("\(flag): \(error)")
    }
}

/// Parses a Go-style duration flag (`24h`, `90s`, `1m30s`) into seconds.
func parseDuration(_ text: String, flag: String) throws -> TimeInterval {
    guard let duration = try? IstioDuration(parsing: text), duration.milliseconds >= 1000 else {
        throw ValidationError("\(flag): '\(text)' is not a duration of at least 1s (e.g. 24h, 45s, 1m30s)")
    }
    return TimeInterval(duration.milliseconds) / 1000
}

/// Parses a Go-style duration flag of at least 1ms (`100ms`, `1s`).
func parseShortDuration(_ text: String, flag: String) throws -> Duration {
    let duration: IstioDuration
    do {
        duration = try IstioDuration(parsing: text)
    } catch {
        throw ValidationError("\(flag): '\(text)' is not a duration (e.g. 100ms, 1s)")
    }
    guard duration.milliseconds >= 1 else { throw ValidationError("\(flag): '\(text)' must be at least 1ms") }
    return .milliseconds(duration.milliseconds)
}

/// Prints `trellis: error: MESSAGE` to stderr and exits 1.
func failAndExit(_ message: String) -> Never {
    FileHandle.standardError.write(Data("trellis: error: \(message)\n".utf8))
    exit(1)
}
