import Foundation
import MeshAPI

/// What `trellis workload register` writes for a host: everything its Envoy needs and nothing
/// else. `envoy.yaml` is self-contained (token and root certificate inline), so the directory
/// can be copied to the host anywhere; no private key is written (the certificate comes over SDS).
public struct WorkloadFiles: Sendable {
    public struct File: Sendable, Equatable {
        public var name: String
        public var contents: String
        /// POSIX permissions: 0600 for anything holding the token.
        public var mode: Int
    }

    public var name: String
    public var namespace: String
    public var address: String
    public var serviceAccount: String
    public var labels: [String: String]
    public var ports: [String: UInt32]
    public var network: String?
    /// `NONE` or `REDIRECT`.
    public var interception: String
    public var trustDomain: String
    /// The secure xDS port of every replica.
    public var xdsAddresses: [HostPort]
    public var adminAddress: HostPort
    public var rootCertificatePEM: String
    public var token: String
    public var delta: Bool
    /// Where the files will be on the host (the systemd unit names them), and Envoy's binary.
    public var installDirectory: String
    public var envoyPath: String

    public init(
        name: String, namespace: String, address: String, serviceAccount: String, labels: [String: String],
        ports: [String: UInt32], network: String?, interception: String, trustDomain: String, xdsAddresses: [HostPort],
        adminAddress: HostPort, rootCertificatePEM: String, token: String, delta: Bool, installDirectory: String,
        envoyPath: String
    ) {
        self.name = name
        self.namespace = namespace
        self.address = address
        self.serviceAccount = serviceAccount
        self.labels = labels
        self.ports = ports
        self.network = network
        self.interception = interception
        self.trustDomain = trustDomain
        self.xdsAddresses = xdsAddresses
        self.adminAddress = adminAddress
        self.rootCertificatePEM = rootCertificatePEM
        self.token = token
        self.delta = delta
        self.installDirectory = installDirectory
        self.envoyPath = envoyPath
    }

    /// Istio's node id for a sidecar of this workload.
    public var nodeID: String { "sidecar~\(address)~\(name).\(namespace)~\(namespace).svc.cluster.local" }

    public func files() throws -> [File] {
        [
            File(name: "envoy.yaml", contents: try bootstrap().yaml(), mode: 0o600),
            File(name: "root-cert.pem", contents: rootCertificatePEM, mode: 0o644),
            File(name: "token", contents: token + "\n", mode: 0o600),
            File(name: "cluster.env", contents: clusterEnv(), mode: 0o644),
            File(name: "trellis-envoy.service", contents: systemdUnit(), mode: 0o644),
        ]
    }

    func bootstrap() -> EnvoyBootstrap {
        var metadata: [String: NodeMetadataValue] = [
            "NAMESPACE": .string(namespace),
            "SERVICE_ACCOUNT": .string(serviceAccount),
            "LABELS": .map(labels),
            "INSTANCE_IPS": .string(address),
            "INTERCEPTION_MODE": .string(interception),
            "WORKLOAD_NAME": .string(name),
        ]
        if let network { metadata["NETWORK"] = .string(network) }
        var bootstrap = EnvoyBootstrap(
            nodeID: nodeID, xdsAddresses: xdsAddresses, adminAddress: adminAddress, metadata: metadata,
            secure: EnvoyBootstrap.Secure(rootCertificate: .pem(rootCertificatePEM), token: token))
        bootstrap.delta = delta
        return bootstrap
    }

    /// The facts, one `KEY=value` a line, with Istio's names where Istio has them.
    func clusterEnv() -> String {
        let labelsJSON = "{" + labels.sorted { $0.key < $1.key }
            .map { ConfigDocuments.jsonString($0.key) + ":" + ConfigDocuments.jsonString($0.value) }
            .joined(separator: ",") + "}"
        var lines = [
            "ISTIO_NAMESPACE=\(namespace)",
            "POD_NAMESPACE=\(namespace)",
            "SERVICE_ACCOUNT=\(serviceAccount)",
            "TRUST_DOMAIN=\(trustDomain)",
            "INSTANCE_IP=\(address)",
            "ISTIO_META_WORKLOAD_NAME=\(name)",
            "ISTIO_META_INTERCEPTION_MODE=\(interception)",
            "ISTIO_METAJSON_LABELS='\(labelsJSON)'",
            // The ports iptables must send to Envoy under REDIRECT, as istio-iptables reads them.
            "ISTIO_INBOUND_PORTS=\(ports.values.sorted().map(String.init).joined(separator: ","))",
            "ISTIO_LOCAL_EXCLUDE_PORTS=\(adminAddress.port)",
            "TRELLIS_XDS_ADDRESS=\(xdsAddresses.map(\.description).joined(separator: ","))",
        ]
        if let network { lines.append("ISTIO_META_NETWORK=\(network)") }
        return lines.joined(separator: "\n") + "\n"
    }

    func systemdUnit() -> String {
        let directory = installDirectory.hasSuffix("/") ? String(installDirectory.dropLast()) : installDirectory
        return """
            [Unit]
            Description=Envoy for Trellis workload \(namespace)/\(name)
            Wants=network-online.target
            After=network-online.target

            [Service]
            EnvironmentFile=\(directory)/cluster.env
            ExecStart=\(envoyPath) -c \(directory)/envoy.yaml
            Restart=always
            RestartSec=2
            LimitNOFILE=65536

            [Install]
            WantedBy=multi-user.target

            """
    }
}
