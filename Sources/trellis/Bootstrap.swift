import ArgumentParser
import ControlPlane
import Foundation

struct Bootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an Envoy bootstrap that gets its whole configuration from Trellis over ADS.",
        discussion: """
            Node ids follow Istio: sidecar~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local (router~... for \
            gateways). Metadata uses Istio's keys: NAMESPACE, LABELS (k=v,k2=v2 or a JSON object), \
            SERVICE_ACCOUNT, INSTANCE_IPS, INTERCEPTION_MODE (REDIRECT or NONE), WORKLOAD_NAME.
            """)

    @Option(name: .customLong("node-id"), help: "The Envoy node id.")
    var nodeID: String

    @Option(name: .customLong("xds-address"), help: "HOST:PORT of the Trellis xDS server.")
    var xdsAddress: String = "127.0.0.1:15010"

    @Option(name: .customLong("admin-address"), help: "HOST:PORT for Envoy's admin interface.")
    var adminAddress: String

    @Option(name: .customLong("metadata"), help: "Node metadata KEY=VALUE (repeatable).")
    var metadata: [String] = []

    @Option(name: .customLong("output"), help: "File to write (default: standard output).")
    var output: String?

    @Option(name: .customLong("root-cert"), help: "Mesh root certificate (PEM) to verify the secure xDS port with; use with --token.")
    var rootCertificate: String?

    @Option(name: .customLong("token"), help: "File holding the bearer token from `trellis token create`.")
    var tokenFile: String?

    func validate() throws {
        _ = try parseAddress(xdsAddress, flag: "--xds-address")
        _ = try parseAddress(adminAddress, flag: "--admin-address")
        _ = try parsedMetadata()
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
        let bootstrap = EnvoyBootstrap(
            nodeID: nodeID,
            xdsAddress: try parseAddress(xdsAddress, flag: "--xds-address"),
            adminAddress: try parseAddress(adminAddress, flag: "--admin-address"),
            metadata: try parsedMetadata(),
            secure: try secureSettings())
        let yaml = try bootstrap.yaml()
        guard let output else {
            print(yaml, terminator: "")
            return
        }
        do {
            // The bootstrap may carry a token: readable by its owner only.
            try yaml.write(toFile: output, atomically: true, encoding: .utf8)
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
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else {
            failAndExit("cannot read a token from --token '\(tokenFile)'")
        }
        let absolute = URL(fileURLWithPath: rootCertificate).standardizedFileURL.path
        return EnvoyBootstrap.Secure(rootCertificatePath: absolute, token: token)
    }

    private func parsedMetadata() throws -> [String: NodeMetadataValue] {
        var result: [String: NodeMetadataValue] = [:]
        for item in metadata {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty,
                let value = NodeMetadataValue.parse(key: parts[0], value: parts[1])
            else {
                throw ValidationError("--metadata '\(item)' must be KEY=VALUE (LABELS=k=v,k2=v2 or a JSON object)")
            }
            result[parts[0]] = value
        }
        return result
    }
}
