import CertificateAuthority
import ConfigStore
public import Foundation
public import MeshAPI

/// What a joining host needs to know about the control plane (answered with its registration).
public struct MeshFacts: Sendable {
    /// `HOST:PORT` of the TLS, token-authenticated xDS port.
    public var secureXDSAddress: String
    public var trustDomain: String
    /// The mesh root certificate (PEM) that verifies the secure xDS port and every workload.
    public var rootCertificatePEM: String

    public init(secureXDSAddress: String, trustDomain: String, rootCertificatePEM: String) {
        self.secureXDSAddress = secureXDSAddress
        self.trustDomain = trustDomain
        self.rootCertificatePEM = rootCertificatePEM
    }
}

/// A proxy stream open on the secure port, as `workload list` shows it.
public struct ProxyConnection: Sendable, Equatable {
    public var namespace: String
    /// The WorkloadEntry the stream belongs to: its token's workload, its auto-registered entry,
    /// else the node's workload name.
    public var workload: String
    public var nodeID: String
    public var connectedAt: Date

    public init(namespace: String, workload: String, nodeID: String, connectedAt: Date) {
        self.namespace = namespace
        self.workload = workload
        self.nodeID = nodeID
        self.connectedAt = connectedAt
    }
}

/// `trellis workload register | deregister | list` on the server: WorkloadEntries with their
/// generated Sidecars and tokens, written in one transaction each way.
public struct WorkloadRegistry: Sendable {
    public struct Registered: Sendable {
        public var token: String
        public var entry: MeshResources.Outcome
        /// The entry's labels: the proxy must carry them (its Sidecar selects it by them).
        public var labels: [String: String]
        public var warnings: [Diagnostic]
    }

    let resources: MeshResources
    let tokens: WorkloadTokens
    let connections: @Sendable () -> [ProxyConnection]

    public init(
        resources: MeshResources, tokens: WorkloadTokens, connections: @escaping @Sendable () -> [ProxyConnection]
    ) {
        self.resources = resources
        self.tokens = tokens
        self.connections = connections
    }

    public func register(_ request: WorkloadRegistration) async throws(APIError) -> Registered {
        let config = try await resources.configuration()
        var group: WorkloadGroup?
        if let name = request.group {
            guard let found = config.workloadGroups.first(where: { $0.namespace == request.namespace && $0.name == name })
            else {
                throw .notFound("group: workloadgroup \(request.namespace)/\(name) not found (apply it first)")
            }
            if let account = found.spec.template.serviceAccount, account != request.serviceAccount {
                throw .badRequest(
                    "serviceAccount: \"\(request.serviceAccount)\" differs from workloadgroup \(name)'s template (\"\(account)\")")
            }
            group = found.spec
        }
        if let existing = config.workloadEntries.first(where: { $0.key == request.entryKey }) {
            let owner = WorkloadGroup.owner(annotations: existing.annotations)
            if existing.annotations[WorkloadGroup.autoRegistrationAnnotation] != nil || owner != request.group {
                throw .conflict(
                    "\(request.entryKey) is owned by "
                        + (owner.map { "workloadgroup \($0)" } ?? "no workloadgroup")
                        + (existing.annotations[WorkloadGroup.autoRegistrationAnnotation] != nil ? " (auto-registered)" : "")
                        + "; choose another --name" + (owner == nil ? " or register without --group" : ""))
            }
        }
        if let sidecar = config.sidecars.first(where: { $0.key == request.sidecarKey }),
            sidecar.annotations[WorkloadRegistration.sidecarOwnerAnnotation] != request.name
        {
            throw .conflict(
                "\(request.sidecarKey) exists and was not generated for this workload; "
                    + "choose another --name (its generated Sidecar takes the workload's name)")
        }
        let entry = request.entry(from: group)
        let documents: String
        do {
            documents = try request.documents(entry: entry)
        } catch {
            throw .badRequest("cannot write the workload's resources: \(error)")
        }

        var writes: [StoreWrite] = []
        var token = request.token
        if request.rotateToken == true {
            token = nil
            do {
                writes += try await tokens.revocations(namespace: request.namespace, workload: request.name)
            } catch {
                throw .unavailable("cannot read the token store: \(error)")
            }
        }
        if let kept = token {
            let grant: TokenGrantCheck
            do {
                grant = try await tokens.verify(kept).map {
                    $0.namespace == request.namespace && $0.workload == request.name
                        && $0.serviceAccount == request.serviceAccount ? .valid : .otherWorkload
                } ?? .invalid
            } catch {
                throw .unavailable("cannot read the token store: \(error)")
            }
            if grant != .valid { token = nil }
        }
        if token == nil {
            do {
                let minted = try WorkloadTokens.mint(
                    namespace: request.namespace, serviceAccount: request.serviceAccount, ttl: nil,
                    workload: request.name)
                token = minted.token
                writes.append(minted.write)
            } catch {
                throw .unavailable("cannot mint a token: \(error)")
            }
        }
        let path = "workload-register:\(request.namespace)/\(request.name)"
        let result = try await resources.apply(
            [ConfigFile(path: path, contents: documents, origin: .api)], alsoWrite: writes)
        guard let outcome = result.outcomes.first(where: { $0.resource.key == request.entryKey }), let token else {
            throw .unavailable("internal error: the registration stored no WorkloadEntry")
        }
        return Registered(token: token, entry: outcome, labels: entry.labels, warnings: result.warnings)
    }

    /// Removes the entry, the Sidecar generated for it and every token minted for it, in one
    /// transaction: the host's stream ends (UNAUTHENTICATED) and its endpoint leaves EDS.
    public func deregister(namespace: String, name: String) async throws(APIError) -> StoredResource {
        let key = ResourceKey(kind: .workloadEntry, namespace: namespace, name: name)
        var writes: [StoreWrite]
        do {
            writes = try await tokens.revocations(namespace: namespace, workload: name)
        } catch {
            throw .unavailable("cannot read the token store: \(error)")
        }
        let sidecarKey = ResourceKey(kind: .sidecar, namespace: namespace, name: name)
        if let sidecar = try await resources.resource(sidecarKey),
            let owned = try await resources.configuration().sidecars.first(where: { $0.key == sidecarKey }),
            owned.annotations[WorkloadRegistration.sidecarOwnerAnnotation] == name
        {
            writes.append(.delete(key: StoredResource.storeKey(sidecarKey), expect: .modRevision(sidecar.modRevision)))
        }
        return try await resources.delete(key, alsoWrite: writes)
    }

    /// Every WorkloadEntry served (config dir and API), in `namespace` or all, with the proxies
    /// connected for it, as JSON.
    public func list(namespace: String?) async throws(APIError) -> String {
        let config = try await resources.configuration()
        let connected = Dictionary(grouping: connections()) { "\($0.namespace)/\($0.workload)" }
        let formatter = ISO8601DateFormatter()
        let items: [[String: Any]] = config.workloadEntries
            .filter { namespace == nil || $0.namespace == namespace }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
            .map { entry in
                var item: [String: Any] = [
                    "name": entry.name, "namespace": entry.namespace, "address": entry.spec.address,
                    "labels": entry.spec.labels, "serviceAccount": entry.spec.serviceAccount ?? "default",
                    "source": entry.source.file,
                    "autoRegistered": entry.annotations[WorkloadGroup.autoRegistrationAnnotation] != nil,
                ]
                if let group = WorkloadGroup.owner(annotations: entry.annotations) { item["group"] = group }
                let proxies = (connected["\(entry.namespace)/\(entry.name)"] ?? []).sorted { $0.connectedAt < $1.connectedAt }
                item["connected"] = !proxies.isEmpty
                item["proxies"] = proxies.map { ["node": $0.nodeID, "connectedSince": formatter.string(from: $0.connectedAt)] }
                return item
            }
        return try ResourceJSON.render(["items": items], what: "the workloads")
    }

    private enum TokenGrantCheck { case valid, otherWorkload, invalid }
}
