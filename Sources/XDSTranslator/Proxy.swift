public import EnvoyAPI
import Foundation
import SwiftProtobuf

/// A connected Envoy as the translator sees it: who it is and where it runs, read from the node
/// id and metadata the way Istio's agent writes them. Equal proxies receive equal configuration,
/// so `Proxy` is the key that groups streams onto one shared snapshot.
public struct Proxy: Hashable, Sendable {
    /// Istio's node types: `sidecar` for workloads, `router` for gateways.
    public enum Kind: String, Sendable { case sidecar, router }

    /// How traffic reaches the proxy: through iptables (REDIRECT, TPROXY), or explicitly to the
    /// listeners' own addresses (NONE, e.g. VMs without iptables and tests on loopback).
    public enum InterceptionMode: String, Sendable { case redirect = "REDIRECT", tproxy = "TPROXY", none = "NONE" }

    /// Which xDS client the node is, as Istio's GENERATOR metadata says: an Envoy, or gRPC's own
    /// xDS client (proxyless gRPC), which asks for API listeners by target name and understands
    /// only part of Envoy's API.
    public enum Generator: String, Sendable { case envoy, grpc }

    public var kind: Kind
    public var ipAddresses: [String]
    public var namespace: String
    public var labels: [String: String]
    public var serviceAccount: String
    public var interceptionMode: InterceptionMode
    public var workloadName: String
    /// The namespace and service account were proven (a token on the secure port), so the
    /// proxy gets a certificate for them.
    public var identityVerified: Bool
    public var generator: Generator

    public init(
        kind: Kind = .sidecar, ipAddresses: [String] = ["127.0.0.1"], namespace: String = "default",
        labels: [String: String] = [:], serviceAccount: String = "default",
        interceptionMode: InterceptionMode = .redirect, workloadName: String = "", identityVerified: Bool = false,
        generator: Generator = .envoy
    ) {
        self.identityVerified = identityVerified
        self.generator = generator
        self.kind = kind
        self.ipAddresses = ipAddresses
        self.namespace = namespace
        self.labels = labels
        self.serviceAccount = serviceAccount
        self.interceptionMode = interceptionMode
        self.workloadName = workloadName
    }
}

/// Why a node cannot be served.
public struct ProxyNodeError: Error, Equatable, CustomStringConvertible {
    public var description: String
}

extension Proxy {
    /// Reads a proxy from an xDS node: id `TYPE~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local`,
    /// metadata keys NAMESPACE, LABELS, SERVICE_ACCOUNT, INSTANCE_IPS, INTERCEPTION_MODE,
    /// WORKLOAD_NAME (all optional; the id fills in what they leave out). GENERATOR=grpc, or a
    /// gRPC user agent ("gRPC C-core ...", "gRPC Go", "gRPC Java"; Envoy says "envoy"), marks a
    /// proxyless gRPC client, so that a hand-written gRPC bootstrap works too.
    public init(node: Envoy_Config_Core_V3_Node) throws(ProxyNodeError) {
        let parts = node.id.split(separator: "~", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let kind = Kind(rawValue: parts[0]), !parts[1].isEmpty else {
            throw ProxyNodeError(
                description: "node id '\(node.id)' is not of the form sidecar~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local "
                    + "(or router~... for gateways)")
        }
        let fields = node.metadata.fields
        func string(_ key: String) -> String? {
            guard case .stringValue(let value)? = fields[key]?.kind, !value.isEmpty else { return nil }
            return value
        }
        let nameParts = parts[2].split(separator: ".", maxSplits: 1).map(String.init)
        let idNamespace = nameParts.count == 2 ? nameParts[1] : parts[3].split(separator: ".").first.map(String.init)
        var labels: [String: String] = [:]
        if case .structValue(let labelStruct)? = fields["LABELS"]?.kind {
            for (key, value) in labelStruct.fields {
                if case .stringValue(let text) = value.kind { labels[key] = text }
            }
        }
        let modeText = string("INTERCEPTION_MODE") ?? "REDIRECT"
        guard let mode = InterceptionMode(rawValue: modeText) else {
            throw ProxyNodeError(description: "node metadata INTERCEPTION_MODE '\(modeText)' is not REDIRECT, TPROXY or NONE")
        }
        let ips = string("INSTANCE_IPS")?.split(separator: ",").map {
            String($0).trimmingCharacters(in: .whitespaces)
        }
        self.init(
            kind: kind,
            ipAddresses: ips ?? [parts[1]],
            namespace: string("NAMESPACE") ?? idNamespace ?? "default",
            labels: labels,
            serviceAccount: string("SERVICE_ACCOUNT") ?? "default",
            interceptionMode: mode,
            workloadName: string("WORKLOAD_NAME") ?? nameParts.first ?? "",
            generator: string("GENERATOR") == Generator.grpc.rawValue || node.userAgentName.lowercased().hasPrefix("grpc")
                ? .grpc : .envoy
        )
    }
}
