import CertificateAuthority
import EnvoyAPI
import GRPCCore
public import MeshAPI
import SwiftProtobuf
import Synchronization
import XDSCache
import XDSServer
import XDSTranslator

/// Holds the mesh configuration being served and each connected group of proxies' snapshot;
/// a new configuration is translated for every group and pushed to the streams it changes.
public final class MeshController: Sendable {
    private struct State {
        /// The configuration served, indexed once for every group's translation.
        var index = MeshIndex(MeshConfig())
        var generation = 0
    }

    private let state = Mutex(State())
    private let cache = SnapshotCache<Proxy>()
    private let certificates: WorkloadCertificates?
    private let rootNamespace: String

    init(certificates: WorkloadCertificates?, rootNamespace: String = MeshConfig.defaultRootNamespace) {
        self.certificates = certificates
        self.rootNamespace = rootNamespace
    }

    public var config: MeshConfig { state.withLock { $0.index.config } }

    /// Serves `config` from now on.
    public func apply(_ config: MeshConfig) {
        var config = config
        config.rootNamespace = rootNamespace
        let index = MeshIndex(config)
        state.withLock {
            $0.index = index
            $0.generation += 1
        }
        rebuild()
    }

    /// Re-translates every connected group (e.g. after a certificate renewal).
    func rebuild() {
        let index = state.withLock { $0.index }
        cache.rebuildAll { snapshot(index, for: $0) }
    }

    /// A stream's subscription. `grant` is what a verified token proves; `trustClaims` lets the
    /// development port take the node's claimed identity at its word.
    func subscribe(node: Envoy_Config_Core_V3_Node, grant: TokenGrant?, trustClaims: Bool) throws -> SnapshotSubscription {
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
        let (index, generation) = state.withLock { ($0.index, $0.generation) }
        let subscription = cache.watch(proxy) { snapshot(index, for: $0) }
        // A config applied while this group's first snapshot was built must not be missed.
        let (latest, latestGeneration) = state.withLock { ($0.index, $0.generation) }
        if latestGeneration != generation {
            cache.set(snapshot(latest, for: proxy), for: proxy)
        }
        return subscription
    }

    private func snapshot(_ index: MeshIndex, for proxy: Proxy) -> Snapshot {
        var credentials: ProxyCredentials?
        if proxy.identityVerified, let certificates {
            credentials = try? certificates.credentials(namespace: proxy.namespace, serviceAccount: proxy.serviceAccount)
        }
        return ProxyTranslator.snapshot(index, for: proxy, credentials: credentials)
    }
}

/// The plaintext development port: identities are whatever the node claims, and only honoured
/// with `--insecure-dev-identities`.
struct PlaintextSource: ProxySnapshotSource {
    let controller: MeshController
    let trustClaimedIdentities: Bool

    func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) throws -> SnapshotSubscription {
        try controller.subscribe(node: node, grant: nil, trustClaims: trustClaimedIdentities)
    }
}

/// The secure port: every stream proves its identity with a bearer token in gRPC metadata.
struct AuthenticatedSource: ProxySnapshotSource {
    let controller: MeshController
    let tokens: TokenStore

    func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) throws -> SnapshotSubscription {
        guard let header = metadata[stringValues: "authorization"].first(where: { _ in true }),
            header.hasPrefix("Bearer ")
        else {
            throw RPCError(
                code: .unauthenticated,
                message: "missing bearer token: send 'authorization: Bearer TOKEN' (trellis token create)")
        }
        guard let grant = tokens.verify(String(header.dropFirst("Bearer ".count))) else {
            throw RPCError(code: .unauthenticated, message: "invalid or expired token")
        }
        return try controller.subscribe(node: node, grant: grant, trustClaims: false)
    }
}
