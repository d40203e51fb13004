import ArgumentParser
import ControlPlane
import Foundation

struct Bootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an Envoy (or proxyless gRPC) bootstrap that gets its whole configuration from Trellis over ADS.",
        discussion: """
            Node ids follow Istio: sidecar~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local (router~... for \
            gateways). Metadata uses Istio's keys: NAMESPACE, LABELS (k=v,k2=v2 or a JSON object), \
            SERVICE_ACCOUNT, INSTANCE_IPS, INTERCEPTION_MODE (REDIRECT or NONE), WORKLOAD_NAME. \
            --format grpc writes the JSON a gRPC application names in GRPC_XDS_BOOTSTRAP to dial \
            xds:///HOST:PORT (node metadata GENERATOR=grpc; no admin address).
            """)

    /// Which client reads the bootstrap.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case envoy, grpc
    }

    @Option(name: .customLong("format"), help: "envoy (YAML for Envoy) or grpc (JSON for gRPC's xDS client).")
    var format: Format = .envoy

    @Option(name: .customLong("node-id"), help: "The node id, in Istio's form.")
    var nodeID: String

    @Option(
        name: .customLong("xds-address"),
        help: "HOST:PORT of the Trellis xDS server; repeat it for each replica (default: 127.0.0.1:15010).")
    var xdsAddress: [String] = []

    @Option(name: .customLong("admin-address"), help: "HOST:PORT for Envoy's admin interface (Envoy only).")
    var adminAddress: String?

    @Option(name: .customLong("metadata"), help: "Node metadata KEY=VALUE (repeatable).")
    var metadata: [String] = []

    @Flag(name: .customLong("delta"), help: "Envoy: use incremental (delta) ADS instead of state of the world.")
    var delta = false

    @Option(
        name: .customLong("stats-flush-interval"),
        help: "Envoy: how often it streams its stats to Trellis for the service graph (Go duration, at least 100ms).")
    var statsFlushInterval: String = "5s"

    @Option(name: .customLong("output"), help: "File to write (default: standard output).")
    var output: String?

    @Option(name: .customLong("root-cert"), help: "Mesh root certificate (PEM) to verify the secure xDS port with; use with --token.")
    var rootCertificate: String?

    @Option(name: .customLong("token"), help: "File holding the bearer token from `trellis token create`.")
    var tokenFile: String?

    func validate() throws {
        _ = try xdsAddresses()
        switch (format, adminAddress) {
        case (.envoy, nil): throw ValidationError("--admin-address is required for an Envoy bootstrap")
        case (.envoy, let address?): _ = try parseAddress(address, flag: "--admin-address")
        case (.grpc, nil): break
        case (.grpc, _?): throw ValidationError("--admin-address is for Envoy; a gRPC bootstrap has no admin interface")
        }
        _ = try parsedMetadata()
        guard try parseShortDuration(statsFlushInterval, flag: "--stats-flush-interval") >= .milliseconds(100) else {
            throw ValidationError("--stats-flush-interval: '\(statsFlushInterval)' must be at least 100ms")
        }
        if format == .grpc && delta {
            throw ValidationError("--delta is for Envoy bootstraps; gRPC's xDS client speaks state of the world")
        }
        if format == .grpc && (rootCertificate != nil || tokenFile != nil) {
            throw ValidationError(
                "--root-cert and --token are not supported with --format grpc: point gRPC clients at the plaintext --xds-address")
        }
        guard (rootCertificate == nil) == (tokenFile == nil) else {
            throw ValidationError("--root-cert and --token go together (the secure xDS port needs both)")
        }
        let parts = nodeID.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 4, ["sidecar", "router"].contains(parts[0]), !parts[1].isEmpty else {
            throw ValidationError(
                "--node-id '\(nodeID)' must look like sidecar~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local")
        }
    }

    func run() throws {
        let text: String
        switch format {
        case .envoy:
            var bootstrap = EnvoyBootstrap(
                nodeID: nodeID,
                xdsAddresses: try xdsAddresses(),
                adminAddress: try parseAddress(adminAddress ?? "", flag: "--admin-address"),
                metadata: try parsedMetadata(),
                secure: try secureSettings()
            )
            bootstrap.delta = delta
            bootstrap.statsFlushInterval = try parseShortDuration(statsFlushInterval, flag: "--stats-flush-interval")
            text = try bootstrap.yaml()
        case .grpc:
            text = try GRPCBootstrap(
                nodeID: nodeID, xdsAddresses: try xdsAddresses(),
                metadata: try parsedMetadata()
            ).json()
        }
        guard let output else {
            print(text, terminator: "")
            return
        }
        do {
            // The bootstrap may carry a token: readable by its owner only.
            try text.write(toFile: output, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: output)
        } catch {
            failAndExit("cannot write '\(output)': \((error as NSError).localizedDescription)")
        }
    }

    private func secureSettings() throws -> EnvoyBootstrap.Secure? {
        guard let rootCertificate, let tokenFile else { return nil }
        guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
            failAndExit("cannot read --root-cert '\(rootCertificate)'")
        }
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            failAndExit("cannot read --token '\(tokenFile)': \((error as NSError).localizedDescription)")
        }
        guard !token.isEmpty else { failAndExit("--token '\(tokenFile)' is empty") }
        let absolute = URL(fileURLWithPath: rootCertificate).standardizedFileURL.path
        return EnvoyBootstrap.Secure(rootCertificatePath: absolute, token: token)
    }

    /// Every replica's address, in the order given; duplicates refused (a typo, not a replica).
    private func xdsAddresses() throws -> [HostPort] {
        try parseAddresses(xdsAddress.isEmpty ? ["127.0.0.1:15010"] : xdsAddress, flag: "--xds-address")
    }

    private func parsedMetadata() throws -> [String: NodeMetadataValue] {
        try parseNodeMetadata(metadata)
    }
}
