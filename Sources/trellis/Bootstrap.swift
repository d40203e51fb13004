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

    func validate() throws {
        _ = try parseAddress(xdsAddress, flag: "--xds-address")
        _ = try parseAddress(adminAddress, flag: "--admin-address")
        _ = try parsedMetadata()
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
            metadata: try parsedMetadata())
        let yaml = try bootstrap.yaml()
        guard let output else {
            print(yaml, terminator: "")
            return
        }
        do {
            try yaml.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            failAndExit("cannot write '\(output)': \((error as NSError).localizedDescription)")
        }
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
