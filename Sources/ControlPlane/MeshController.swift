import AdminAPI
import CertificateAuthority
import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import Metrics
public import MeshAPI
import SwiftProtobuf
import Synchronization
import XDSCache
import XDSServer
import XDSTranslator

/// Holds the mesh configuration being served and each connected group of proxies' snapshot;
/// a new configuration is translated for every group and pushed to the streams it changes.
/// Groups that run without a workload certificate are tracked and published in the status
/// file until they get one.
public final class MeshController: Sendable {
    private struct State {
        /// The configuration served, indexed once for every group's translation.
        var index = MeshIndex(MeshConfig())
        var generation = 0
        /// Why each group without credentials has none (only groups whose last snapshot lacked them).
        var credentialProblems: [Proxy: ProxyCredentialProblem] = [:]
        /// Groups already told about in the log, so that each problem is logged once.
        var loggedProblems: Set<Proxy> = []
        /// Set while there is no configuration fit to serve yet (see `hold`).
        var heldBecause: String?
    }

    private let state = Mutex(State())
    private let cache = SnapshotCache<Proxy>()
    private let layers = TranslationLayers()
    private let certificates: WorkloadCertificates?
    private let rootNamespace: String
    private let status: StatusFile?
    private let logger: Logger
    /// How long each rebuild of every connected group takes (`trellis_translation_seconds`).
    private let translationTime: Metrics.Timer?

    init(
        certificates: WorkloadCertificates?, rootNamespace: String = MeshConfig.defaultRootNamespace,
        status: StatusFile? = nil, translationTime: Metrics.Timer? = nil, logger: Logger = Logger(label: "trellis")
    ) {
        self.translationTime = translationTime
        self.certificates = certificates
        self.rootNamespace = rootNamespace
        self.status = status
        self.logger = logger
    }

    public var config: MeshConfig { state.withLock { $0.index.config } }

    /// Serves `config` from now on.
    public func apply(_ config: MeshConfig) {
        var config = config
        config.rootNamespace = rootNamespace
        workloadHealth.withLock { health in
            config.unhealthyWorkloads = health?.update(config) ?? []
            let index = MeshIndex(config)
            state.withLock {
                $0.index = index
                $0.generation += 1
                $0.heldBecause = nil
            }
        }
        rebuild()
    }

    /// What serving `candidate` instead would change for each connected group (`trellis diff`):
    /// both translated with the group's current credentials and endpoint health. Changes nothing.
    func preview(_ candidate: MeshConfig) throws -> [ProxyDiff] {
        let current = state.withLock { $0.index }
        var config = candidate
        config.rootNamespace = rootNamespace
        config.unhealthyWorkloads = current.config.unhealthyWorkloads
        let next = MeshIndex(config)
        return try cache.groups.sorted { $0.label < $1.label }.compactMap { proxy in
            let credentials = credentials(for: proxy).0
            let diff = try ConfigDiff(
                from: ProxyTranslator.snapshot(current, for: proxy, credentials: credentials),
                to: ProxyTranslator.snapshot(next, for: proxy, credentials: credentials))
            guard !diff.changes.isEmpty else { return nil }
            return ProxyDiff(
                proxy: proxy.label,
                changes: diff.changes.map {
                    ProxyDiff.Change(type: $0.type.shortName, name: $0.name, action: $0.action, lines: $0.lines)
                })
        }
    }

    /// Why new streams are refused (see `hold`), or nil when serving.
    var heldReason: String? { state.withLock { $0.heldBecause } }

    /// Refuses new streams (UNAVAILABLE, with `reason`) until the next `apply`: a proxy that
    /// reconnects keeps its configuration rather than being sent one that is not fit to serve.
    func hold(reason: String) {
        state.withLock { $0.heldBecause = reason }
    }

    /// Re-translates every connected group (e.g. after a certificate renewal).
    func rebuild() {
        let started = ContinuousClock.now
        defer { translationTime?.record(duration: ContinuousClock.now - started) }
        let (index, generation) = state.withLock { ($0.index, $0.generation) }
        // Each group's credentials once: the parallel translation needs their trust domains.
        let groups = cache.groups
        let known = Dictionary(groups.map { ($0, credentials(for: $0)) }, uniquingKeysWith: { first, _ in first })
        layers.prepare(index, generation: generation, for: groups.map { ($0, known[$0]?.0?.trustDomain) })
        cache.rebuildAll(generation: generation) { snapshot(index, generation: generation, for: $0, known: known[$0]) }
        publishCredentialProblems()
    }

    /// Periodic upkeep: renews certificates that are due (and retries failed ones whose backoff
    /// has passed), forgets certificates and problems of groups that are gone.
    func maintain() {
        if let certificates, certificates.renewalDue() { rebuild() }
        let groups = Set(cache.groups)
        if let certificates {
            let identities = groups.filter(\.identityVerified).map {
                certificates.identity(namespace: $0.namespace, serviceAccount: $0.serviceAccount)
            }
            certificates.prune(keeping: Set(identities))
        }
        state.withLock { state in
            state.credentialProblems = state.credentialProblems.filter { groups.contains($0.key) }
        }
        layers.prune(keeping: groups)
        publishCredentialProblems()
    }

    /// Classes and workloads translated for the current configuration.
    var translatedLayers: (classes: Int, workloads: Int, endpointUpdates: Int) { layers.counts }

    /// Groups of proxies with at least one stream open.
    var connectedGroups: [Proxy] { cache.groups }

    /// The current snapshot of a group with streams open (nil when none is connected).
    func snapshot(for proxy: Proxy) -> Snapshot? {
        cache.snapshot(for: proxy)
    }

    /// A stream's subscription. `grant` is what a verified token proves; `trustClaims` lets the
    /// development port take the node's claimed identity at its word.
    func subscribe(node: Envoy_Config_Core_V3_Node, grant: TokenGrant?, trustClaims: Bool) throws -> SnapshotSubscription {
        try subscribe(try proxy(for: node, grant: grant, trustClaims: trustClaims))
    }

    /// The proxy a stream's node describes, with the identity its token proves. Throws the RPC
    /// error that refuses the stream (a malformed node, a token for another namespace).
    func proxy(for node: Envoy_Config_Core_V3_Node, grant: TokenGrant?, trustClaims: Bool) throws -> Proxy {
        var proxy: Proxy
        do {
            proxy = try Proxy(node: node)
        } catch {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
        if let grant {
            let claimsAccount = node.metadata.fields["SERVICE_ACCOUNT"] != nil
            guard proxy.namespace == grant.namespace, !claimsAccount || proxy.serviceAccount == grant.serviceAccount else {
                throw RPCError(
                    code: .permissionDenied,
                    message: "token is for \(grant.namespace)/\(grant.serviceAccount) but node '\(node.id)' "
                        + "claims \(proxy.namespace)/\(proxy.serviceAccount)")
            }
            proxy.serviceAccount = grant.serviceAccount
            proxy.identityVerified = true
        } else {
            proxy.identityVerified = trustClaims && certificates != nil
        }
        return proxy
    }

    /// How `proxy-status` names the proxy: its kind and the SPIFFE identity it is served as.
    func session(_ subscription: SnapshotSubscription, for proxy: Proxy) -> ProxySession {
        let kind = proxy.generator == .grpc ? "grpc" : proxy.kind == .router ? "gateway" : "sidecar"
        let identity = proxy.identityVerified && proxy.generator == .envoy
            ? WorkloadIdentity(
                trustDomain: certificates?.issuer.trustDomain ?? "cluster.local", namespace: proxy.namespace,
                serviceAccount: proxy.serviceAccount
            ).spiffeID : nil
        var session = ProxySession(subscription: subscription, kind: kind, identity: identity)
        session.current = { [cache] in cache.snapshot(for: proxy) }
        return session
    }

    /// Subscribes an admitted proxy to its group's snapshots.
    func subscribe(_ proxy: Proxy) throws -> SnapshotSubscription {
        let (index, generation, held) = state.withLock { ($0.index, $0.generation, $0.heldBecause) }
        if let held { throw RPCError(code: .unavailable, message: "no configuration to serve yet: \(held)") }
        let subscription = cache.watch(proxy, generation: generation) { snapshot(index, generation: generation, for: $0) }
        // A config applied while this group's first snapshot was built must not be missed.
        let (latest, latestGeneration) = state.withLock { ($0.index, $0.generation) }
        if latestGeneration != generation {
            cache.set(snapshot(latest, generation: latestGeneration, for: proxy), for: proxy, generation: latestGeneration)
        }
        publishCredentialProblems()
        return subscription
    }

    /// `known`: the group's credentials when the caller has them already.
    private func snapshot(
        _ index: MeshIndex, generation: Int, for proxy: Proxy,
        known: (ProxyCredentials?, ProxyCredentialProblem?)? = nil
    ) -> Snapshot {
        let (credentials, problem) = known ?? credentials(for: proxy)
        state.withLock { $0.credentialProblems[proxy] = problem }
        return layers.snapshot(index, generation: generation, for: proxy, credentials: credentials)
    }

    /// The group's credentials, or why it has none. Never an error swallowed: a proxy without
    /// credentials serves its STRICT ports to nobody (see `InboundChains`).
    private func credentials(for proxy: Proxy) -> (ProxyCredentials?, ProxyCredentialProblem?) {
        guard proxy.generator == .envoy else { return (nil, nil) }  // proxyless gRPC takes no SDS
        let identity = WorkloadIdentity(
            trustDomain: certificates?.issuer.trustDomain ?? "cluster.local", namespace: proxy.namespace,
            serviceAccount: proxy.serviceAccount)
        let spiffeID = identity.spiffeID
        guard proxy.identityVerified, let certificates else {
            return (
                nil,
                ProxyCredentialProblem(
                    proxy: proxy.label, identity: spiffeID,
                    reason: "identity not proven: connected on the plaintext xDS port without --insecure-dev-identities",
                    attempts: 0, since: nil)
            )
        }
        do {
            return (try certificates.credentials(for: identity), nil)
        } catch {
            let failure = certificates.failures[identity]
            return (
                nil,
                ProxyCredentialProblem(
                    proxy: proxy.label, identity: spiffeID, reason: error.reason, attempts: failure?.attempts ?? 1,
                    since: failure?.since)
            )
        }
    }

    /// Logs each new problem once and writes the current ones to the status file.
    private func publishCredentialProblems() {
        let (problems, new) = state.withLock { state in
            let new = state.credentialProblems.filter { !state.loggedProblems.contains($0.key) }
            // A problem that cleared is logged again if it comes back.
            state.loggedProblems = Set(state.credentialProblems.keys)
            return (Array(state.credentialProblems.values), Array(new.values))
        }
        for problem in new.sorted() {
            // CA failures are logged as errors by WorkloadCertificates; an unproven identity is
            // how the development port works, worth a line but not an alarm.
            logger.info(
                "proxy \(problem.proxy) has no workload certificate (\(problem.reason)): no mTLS, STRICT inbound ports refuse connections")
        }
        status?.update { $0.proxiesWithoutCredentials = problems.sorted() }
    }

    // MARK: Workload health

    /// What decides which WorkloadEntries are served UNHEALTHY (the prober). Held while a
    /// configuration is indexed, so that a health change and a new configuration cannot
    /// overwrite each other with an older version of the other.
    private let workloadHealth = Mutex<(any WorkloadHealthSource)?>(nil)

    /// Makes `source` decide which WorkloadEntries are served UNHEALTHY: it sees every
    /// configuration before it is served, the current one at once.
    func setWorkloadHealth(_ source: any WorkloadHealthSource) {
        let changed = workloadHealth.withLock { health in
            health = source
            return reindex { source.update($0) }
        }
        if changed { rebuild() }
    }

    /// Serves the current configuration with the health source's unhealthy set as it is now
    /// (the prober calls it when probes changed the set). Only endpoints change, so no proxy
    /// class is translated again (see `EndpointChange`).
    func workloadHealthChanged() {
        let changed = workloadHealth.withLock { health in
            guard let source = health else { return false }
            return reindex { _ in source.unhealthyWorkloads }
        }
        if changed { rebuild() }
    }

    /// The current configuration with `unhealthy(config)` as its unhealthy set, served as a new
    /// generation unless the set is the same. Call with `workloadHealth` locked.
    private func reindex(_ unhealthy: (MeshConfig) -> Set<ResourceKey>) -> Bool {
        var config = state.withLock { $0.index.config }
        let set = unhealthy(config)
        guard set != config.unhealthyWorkloads else { return false }
        config.unhealthyWorkloads = set
        let index = MeshIndex(config)
        state.withLock {
            $0.index = index
            $0.generation += 1
        }
        return true
    }
}

extension Proxy {
    /// `KIND~IP~WORKLOAD.NAMESPACE`, the node id's first three parts, for logs and status.
    var label: String {
        "\(kind.rawValue)~\(ipAddresses.first ?? "")~\(workloadName).\(namespace)"
    }
}

/// The plaintext development port: identities are whatever the node claims, and only honoured
/// with `--insecure-dev-identities`.
struct PlaintextSource: ProxySnapshotSource {
    let controller: MeshController
    let trustClaimedIdentities: Bool

    func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) throws -> ProxySession {
        let proxy = try controller.proxy(for: node, grant: nil, trustClaims: trustClaimedIdentities)
        return controller.session(try controller.subscribe(proxy), for: proxy)
    }
}

/// The secure port: every stream proves its identity with a bearer token in gRPC metadata.
/// A token store that cannot be read refuses every stream (UNAVAILABLE): never a grant by error.
/// Streams are tracked by token (a revoked token ends them); a proxy with `WORKLOAD_GROUP`
/// metadata is auto-registered while it is connected.
struct AuthenticatedSource: ProxySnapshotSource {
    let controller: MeshController
    let tokens: WorkloadTokens
    let connections: ProxyConnections
    let autoRegistration: AutoRegistration
    let logger: Logger

    func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) async throws -> ProxySession {
        let grant = try await tokens.grant(for: metadata, logger: logger)
        let proxy = try controller.proxy(for: node, grant: grant, trustClaims: false)
        var workload = grant.workload ?? proxy.workloadName
        var registered: ResourceKey?
        if let group = AutoRegistration.groupName(of: node) {
            let key = try await autoRegistration.admit(
                group: group, proxy: proxy, serviceAccount: grant.serviceAccount, config: controller.config)
            registered = key
            workload = key.name
        }
        let subscription: SnapshotSubscription
        do {
            subscription = try controller.subscribe(proxy)
        } catch {
            if let registered { await autoRegistration.release(registered) }
            throw error
        }
        let (id, termination) = connections.open(
            ProxyConnection(namespace: grant.namespace, workload: workload, nodeID: node.id, connectedAt: Date()),
            tokenHash: grant.sha256)
        let (connections, autoRegistration, entry) = (self.connections, self.autoRegistration, registered)
        var session = controller.session(subscription, for: proxy)
        session.termination = termination
        session.ended = {
            connections.close(id)
            if let entry { Task { await autoRegistration.release(entry) } }
        }
        return session
    }
}

extension WorkloadTokens {
    /// The grant of the stream's `authorization: Bearer TOKEN`. A token store that cannot be
    /// read refuses the stream (UNAVAILABLE): never a grant by error.
    func grant(for metadata: Metadata, logger: Logger) async throws -> TokenGrant {
        guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }),
            header.hasPrefix("Bearer ")
        else {
            throw RPCError(
                code: .unauthenticated,
                message: "missing bearer token: send 'authorization: Bearer TOKEN' (trellis token create)")
        }
        let grant: TokenGrant?
        do {
            grant = try await verify(String(header.dropFirst("Bearer ".count)))
        } catch {
            logger.error("cannot verify a token: \(error); refusing the stream")
            throw RPCError(code: .unavailable, message: "the server cannot read its token store; try again later")
        }
        guard let grant else {
            throw RPCError(code: .unauthenticated, message: "invalid or expired token")
        }
        return grant
    }
}
