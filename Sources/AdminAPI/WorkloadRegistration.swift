import Foundation
public import MeshAPI
import Yams

/// The body of `POST /api/workloads` (`trellis workload register`): a VM or bare host joining
/// the mesh. It becomes a WorkloadEntry (and, for a proxy without traffic capture, the Sidecar
/// that gives it inbound listeners), plus a token bound to the entry.
public struct WorkloadRegistration: Codable, Sendable {
    /// How the host's traffic reaches its Envoy (Istio's `INTERCEPTION_MODE`).
    public enum Interception: String, Codable, Sendable, CaseIterable {
        /// No iptables: Envoy binds the VM's address on each port and forwards to the app on
        /// 127.0.0.1; the app calls mesh services on 127.0.0.1:SERVICE_PORT.
        case none = "NONE"
        /// iptables (set up by the host's owner) redirect traffic to Envoy's 15001/15006.
        case redirect = "REDIRECT"
    }

    public var name: String
    public var namespace: String
    public var address: String
    public var serviceAccount: String
    public var labels: [String: String]?
    /// A WorkloadGroup of the namespace whose template (labels, ports, network, locality) the
    /// entry starts from; the entry is owned by it.
    public var group: String?
    /// Service port name → the port the workload serves it on.
    public var ports: [String: UInt32]?
    public var network: String?
    /// `region/zone/subzone`.
    public var locality: String?
    public var interception: Interception?
    /// Revoke every earlier token of this workload and mint a new one.
    public var rotateToken: Bool?
    /// A token the host already has: kept (no new one minted) when it is valid for this workload.
    public var token: String?

    public init(name: String, namespace: String, address: String, serviceAccount: String) {
        self.name = name
        self.namespace = namespace
        self.address = address
        self.serviceAccount = serviceAccount
    }

    /// The label that selects the workload's proxy (for its generated Sidecar).
    public static let workloadLabel = "trellis.dev/workload"
    /// On a Sidecar generated for a workload: the WorkloadEntry it belongs to.
    public static let sidecarOwnerAnnotation = "trellis.dev/workload-entry"

    public var entryKey: ResourceKey { ResourceKey(kind: .workloadEntry, namespace: namespace, name: name) }
    public var sidecarKey: ResourceKey { ResourceKey(kind: .sidecar, namespace: namespace, name: name) }
    public var mode: Interception { interception ?? .none }

    static func decode(_ body: String) throws(APIError) -> WorkloadRegistration {
        let request: WorkloadRegistration
        do {
            request = try JSONDecoder().decode(WorkloadRegistration.self, from: Data(body.utf8))
        } catch {
            throw .badRequest("expected a workload registration {name, namespace, address, serviceAccount, ...}: \(error)")
        }
        try request.check()
        return request
    }

    /// What Istio's schema would refuse later, said in the flags' terms now.
    func check() throws(APIError) {
        if let problem = Self.nameProblem(name) { throw .badRequest("name: \"\(name)\" \(problem)") }
        for (field, value) in [("namespace", namespace), ("serviceAccount", serviceAccount)] where !Self.isLabel(value) {
            throw .badRequest("\(field): \"\(value)\" must be a DNS label (lowercase letters, digits, '-')")
        }
        guard IPAddress.isValid(address) else {
            throw .badRequest("address: \"\(address)\" is not an IP address (the address other workloads reach this host at)")
        }
        if mode == .none, ["127.0.0.1", "::1", "0.0.0.0", "::"].contains(address) {
            throw .badRequest(
                "address: \"\(address)\": with interception NONE the application listens on 127.0.0.1 and Envoy on "
                    + "the workload's address; give the address other workloads reach this host at")
        }
        if let group, !Self.isLabel(group) { throw .badRequest("group: \"\(group)\" is not a WorkloadGroup name") }
    }

    /// The entry: the group's template (when given) overlaid with the request, labelled so
    /// that its Sidecar selects its proxy.
    func entry(from group: WorkloadGroup?) -> WorkloadEntry {
        var entry = (group ?? WorkloadGroup()).entry(address: address, serviceAccount: serviceAccount, labels: labels ?? [:])
        entry.labels[Self.workloadLabel] = name
        entry.ports.merge(ports ?? [:]) { $1 }
        entry.network = network ?? entry.network
        entry.locality = locality ?? entry.locality
        return entry
    }

    /// The documents to apply: the WorkloadEntry, and for interception NONE the Sidecar that
    /// binds each port on the workload's address and forwards to 127.0.0.1 (without traffic
    /// capture, Istio's proxy serves inbound traffic only on Sidecar ingress listeners).
    func documents(entry: WorkloadEntry) throws -> String {
        var annotations: [String: String] = [:]
        if let group { annotations[WorkloadGroup.registeredGroupAnnotation] = group }
        var documents = [
            Self.document(
                kind: .workloadEntry, namespace: namespace, name: name, annotations: annotations,
                spec: Self.spec(of: entry))
        ]
        if mode == .none, !entry.ports.isEmpty {
            let ingress: [[String: Any]] = entry.ports.sorted { $0.key < $1.key }.map { name, number in
                [
                    "port": ["number": Int(number), "protocol": Self.protocolName(forPort: name), "name": name],
                    "bind": address,
                    "defaultEndpoint": "127.0.0.1:\(number)",
                ]
            }
            documents.append(
                Self.document(
                    kind: .sidecar, namespace: namespace, name: name,
                    annotations: [Self.sidecarOwnerAnnotation: name],
                    spec: ["workloadSelector": ["labels": [Self.workloadLabel: name]], "ingress": ingress]))
        }
        return try Self.yaml(documents)
    }

    /// Documents (YAML objects) as one multi-document YAML text.
    public static func yaml(_ documents: [[String: Any]]) throws -> String {
        try documents.map { try Yams.dump(object: $0, sortKeys: true) }.joined(separator: "---\n")
    }

    /// A WorkloadEntry spec as YAML objects (the shape of the CRD).
    public static func spec(of entry: WorkloadEntry) -> [String: Any] {
        var spec: [String: Any] = ["address": entry.address]
        if !entry.labels.isEmpty { spec["labels"] = entry.labels }
        if !entry.ports.isEmpty { spec["ports"] = entry.ports.mapValues { Int($0) } }
        if let account = entry.serviceAccount { spec["serviceAccount"] = account }
        if let network = entry.network { spec["network"] = network }
        if let locality = entry.locality { spec["locality"] = locality }
        if let weight = entry.weight { spec["weight"] = Int(weight) }
        return spec
    }

    public static func document(
        kind: ResourceKind, namespace: String, name: String, annotations: [String: String], spec: [String: Any]
    ) -> [String: Any] {
        var metadata: [String: Any] = ["name": name, "namespace": namespace]
        if !annotations.isEmpty { metadata["annotations"] = annotations }
        return ["apiVersion": kind.apiVersion, "kind": kind.rawValue, "metadata": metadata, "spec": spec]
    }

    /// Istio's protocol selection by port name (`http`, `http-web`, `grpc-api`, ...); TCP when
    /// the name says nothing.
    static func protocolName(forPort name: String) -> String {
        let prefix = String(name.split(separator: "-").first ?? "")
        return PortProtocol(istioName: prefix)?.rawValue ?? PortProtocol.tcp.rawValue
    }

    static func isLabel(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 63 && value.first != "-" && value.last != "-"
            && value.allSatisfy { ($0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" }
    }

    static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 253 else { return "must be 1 to 253 characters" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ isLabel(String($0)) }) else {
            return "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"
        }
        return nil
    }
}
