import AdminAPI
import ConfigStore
import CertificateAuthority
import EnvoyAPI
import Foundation
import GRPCCore
import MeshAPI
import SwiftProtobuf
import Testing
import XDSCache
import XDSServer
import XDSTranslator

@testable import ControlPlane

/// A workload under STRICT whose certificate cannot be issued must never be served plaintext;
/// the failure is reported, retried with backoff, and recovers when the CA does.
@Suite struct CredentialFailureTests {
    static let mesh = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: reviews}
        spec:
          hosts: [reviews.default.svc.cluster.local]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: 9080, name: http, protocol: HTTP}]
          endpoints:
          - {address: 10.0.0.5, serviceAccount: reviews, labels: {app: reviews, security.istio.io/tlsMode: istio}}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default}
        spec:
          mtls: {mode: STRICT}
        """

    struct Setup {
        let directory: TemporaryDirectory
        let issuer: FlakyIssuer
        let clock = TestClock()
        let certificates: WorkloadCertificates
        let status: StatusFile
        let controller: MeshController

        init() throws {
            directory = try TemporaryDirectory()
            issuer = FlakyIssuer(
                authority: try CertificateAuthority.loadOrCreate(directory: directory.file("ca"), trustDomain: "cluster.local"))
            let clock = self.clock
            certificates = WorkloadCertificates(issuer: issuer, lifetime: 3600, logger: quietLogger, clock: { clock.now })
            status = StatusFile(dataDirectory: directory.path, logger: quietLogger)
            controller = MeshController(certificates: certificates, status: status, logger: quietLogger)
            controller.apply(ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: CredentialFailureTests.mesh)]).config)
        }

        func subscribeReviews() throws -> SnapshotSubscription {
            let node = sidecarNode(
                ip: "10.0.0.5", workload: "reviews", labels: ["app": "reviews"],
                metadata: ["SERVICE_ACCOUNT": "reviews", "INTERCEPTION_MODE": "REDIRECT"])
            return try controller.subscribe(
                node: node, grant: TokenGrant(namespace: "default", serviceAccount: "reviews"), trustClaims: false)
        }
    }

    /// The chains of the virtual inbound listener that serve port 9080.
    static func inboundChains(_ snapshot: Snapshot) throws -> [Envoy_Config_Listener_V3_FilterChain] {
        let listener = try #require(try snapshot.listener("virtualInbound"))
        return listener.filterChains.filter { $0.filterChainMatch.destinationPort.value == 9080 }
    }

    @Test("a CA that cannot sign leaves STRICT ports refusing, reported, and recovers with the CA")
    func outageAndRecovery() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        setup.issuer.failing = true
        let subscription = try setup.subscribeReviews()

        // During the outage: no certificate, and the STRICT port refuses rather than serving plaintext.
        #expect(subscription.initial.resource(.secret, named: "default") == nil)
        let refusing = try Self.inboundChains(subscription.initial)
        #expect(refusing.map(\.name) == ["inbound|9080||-strict-no-credentials"])
        #expect(refusing.allSatisfy { !$0.hasTransportSocket })
        let problems = setup.status.current.proxiesWithoutCredentials
        #expect(problems.count == 1)
        #expect(problems.first?.identity == "spiffe://cluster.local/ns/default/sa/reviews")
        #expect(problems.first?.reason.contains("injected") == true)
        #expect(problems.first?.attempts == 1)

        // Within the backoff the CA is not asked again, however often the mesh is rebuilt.
        let calls = setup.issuer.calls
        setup.controller.rebuild()
        setup.controller.maintain()
        #expect(setup.issuer.calls == calls)

        // Past the backoff it is retried; still failing, the attempt is counted and the wait doubles.
        setup.clock.advance(1.5)
        setup.controller.maintain()
        #expect(setup.issuer.calls == calls + 1)
        #expect(setup.status.current.proxiesWithoutCredentials.first?.attempts == 2)
        setup.clock.advance(1.5)
        setup.controller.maintain()
        #expect(setup.issuer.calls == calls + 1, "second backoff is 2 s")

        // The CA is back: the next retry issues the certificate and the port is mTLS-only.
        setup.issuer.failing = false
        setup.clock.advance(1)
        setup.controller.maintain()
        let proxy = try #require(setup.controller.connectedGroups.first)
        let recovered = try #require(setup.controller.snapshot(for: proxy))
        #expect(recovered.resource(.secret, named: "default") != nil)
        let chains = try Self.inboundChains(recovered)
        #expect(chains.map(\.name) == ["inbound|9080||-mtls"])
        #expect(chains.allSatisfy { $0.hasTransportSocket })
        #expect(setup.status.current.proxiesWithoutCredentials.isEmpty)
        _ = subscription
    }

    @Test("a proxy whose identity is not proven gets no certificate and a refusing STRICT port")
    func unprovenIdentity() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let node = sidecarNode(
            ip: "10.0.0.5", workload: "reviews", labels: ["app": "reviews"],
            metadata: ["SERVICE_ACCOUNT": "reviews", "INTERCEPTION_MODE": "REDIRECT"])
        let subscription = try setup.controller.subscribe(node: node, grant: nil, trustClaims: false)
        #expect(subscription.initial.resource(.secret, named: "default") == nil)
        #expect(try Self.inboundChains(subscription.initial).map(\.name) == ["inbound|9080||-strict-no-credentials"])
        #expect(setup.issuer.calls == 0)
        #expect(setup.status.current.proxiesWithoutCredentials.first?.reason.contains("not proven") == true)
    }

    @Test("a certificate renewal changes the secrets only: every other resource is the same, shared")
    func renewalTouchesSecretsOnly() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let subscription = try setup.subscribeReviews()
        defer { withExtendedLifetime(subscription) {} }
        let proxy = try #require(setup.controller.connectedGroups.first)
        let before = try #require(setup.controller.snapshot(for: proxy))
        setup.clock.advance(3600 * 0.55)
        setup.controller.maintain()
        let after = try #require(setup.controller.snapshot(for: proxy))
        #expect(after.resource(.secret, named: "default") != before.resource(.secret, named: "default"))
        for type in [ResourceType.cluster, .endpoint, .listener, .route] {
            #expect(after.resources(type) == before.resources(type), "\(type.shortName) changed on a renewal")
            for (name, resource) in after.resources(type) {
                #expect(resource === before.resource(type, named: name), "\(name) was translated again")
            }
        }
    }

    @Test("a renewal that fails keeps the still-valid certificate")
    func failedRenewalKeepsCertificate() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let identity = setup.certificates.identity(namespace: "default", serviceAccount: "reviews")
        let first = try setup.certificates.credentials(for: identity)
        setup.issuer.failing = true
        setup.clock.advance(3600 * 0.55)  // past renewal, before expiry
        #expect(setup.certificates.renewalDue())
        let during = try setup.certificates.credentials(for: identity)
        #expect(during.certificateChainPEM == first.certificateChainPEM)
        #expect(setup.certificates.failures[identity]?.attempts == 1)
    }

    @Test("certificates of identities with no connected proxy are pruned")
    func pruning() throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let reviews = setup.certificates.identity(namespace: "default", serviceAccount: "reviews")
        let ratings = setup.certificates.identity(namespace: "default", serviceAccount: "ratings")
        _ = try setup.certificates.credentials(for: reviews)
        _ = try setup.certificates.credentials(for: ratings)
        setup.certificates.prune(keeping: [reviews])
        #expect(setup.certificates.cachedIdentities == [reviews])
    }
}

/// A token store that cannot be read refuses streams as UNAVAILABLE: never a grant by error, and
/// not mistaken for a bad token either.
@Suite struct TokenStoreFailureTests {
    @Test("an unreadable token store refuses every stream with UNAVAILABLE")
    func unreadableTokenStore() async throws {
        let store = InMemoryConfigStore()
        let tokens = WorkloadTokens(store: store)
        let token = try await tokens.create(namespace: "default", serviceAccount: "reviews", ttl: nil)
        let source = authenticatedSource(store: store)
        var metadata = Metadata()
        metadata.addString("Bearer \(token)", forKey: "authorization")
        let node = sidecarNode(ip: "10.0.0.5", workload: "reviews", metadata: ["SERVICE_ACCOUNT": "reviews"])
        _ = try await source.subscribe(node: node, metadata: metadata)

        var wrong = Metadata()
        wrong.addString("Bearer \(token)x", forKey: "authorization")
        await #expect { _ = try await source.subscribe(node: node, metadata: wrong) } throws: { error in
            (error as? RPCError)?.code == .unauthenticated
        }

        store.close()  // from now on every read fails
        await #expect { _ = try await source.subscribe(node: node, metadata: metadata) } throws: { error in
            (error as? RPCError)?.code == .unavailable
        }
    }

    @Test("revoking a token ends the streams that presented it with UNAUTHENTICATED, and only those")
    func revokedTokenEndsItsStreams() async throws {
        let store = InMemoryConfigStore()
        let tokens = WorkloadTokens(store: store)
        let revoked = try await tokens.create(namespace: "default", serviceAccount: "reviews", ttl: nil)
        let kept = try await tokens.create(namespace: "default", serviceAccount: "reviews", ttl: nil)
        let connections = ProxyConnections()
        let source = authenticatedSource(store: store, connections: connections)
        let follower = Task { await TokenRevocations.follow(store: store, connections: connections, logger: quietLogger) }
        defer { follower.cancel() }
        let node = sidecarNode(ip: "10.0.0.5", workload: "reviews", metadata: ["SERVICE_ACCOUNT": "reviews"])
        func session(_ token: String) async throws -> ProxySession {
            var metadata = Metadata()
            metadata.addString("Bearer \(token)", forKey: "authorization")
            return try await source.subscribe(node: node, metadata: metadata)
        }
        let ending = try await session(revoked)
        let staying = try await session(kept)
        #expect(connections.all.count == 2)

        let hash = TokenStore.digest(revoked).map { String(format: "%02x", $0) }.joined()
        try await store.delete(WorkloadTokens.keyPrefix + hash)
        var iterator = try #require(ending.termination).makeAsyncIterator()
        let error = await iterator.next()
        #expect(error?.code == .unauthenticated)

        // The other token's stream is untouched, and a new stream with the revoked token is refused.
        staying.ended?()
        ending.ended?()
        #expect(connections.all.isEmpty)
        var untouched = try #require(staying.termination).makeAsyncIterator()
        #expect(await untouched.next() == nil, "closed without an error")
        await #expect { _ = try await session(revoked) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
    }

    @Test("tokens of a data dir from before the store keep working, moved into it once")
    func legacyTokensAreImported() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let hash = TokenStore.digest("old-token").map { String(format: "%02x", $0) }.joined()
        try directory.write(
            "tokens.json",
            #"{"tokens": [{"sha256": "\#(hash)", "namespace": "default", "serviceAccount": "reviews", "createdAt": "2026-01-01T00:00:00Z"}]}"#)
        let store = InMemoryConfigStore()
        try await WorkloadTokens(store: store).importLegacy(dataDirectory: directory.path)
        let grant = try await WorkloadTokens(store: store).verify("old-token")
        #expect(grant == TokenGrant(namespace: "default", serviceAccount: "reviews", sha256: hash))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/tokens.json"))
        #expect(FileManager.default.fileExists(atPath: directory.path + "/tokens.json.imported"))
    }
}

/// The secure port's source over `store`, without auto-registration's WorkloadGroups.
private func authenticatedSource(store: InMemoryConfigStore, connections: ProxyConnections = ProxyConnections())
    -> AuthenticatedSource
{
    AuthenticatedSource(
        controller: MeshController(certificates: nil, logger: quietLogger), tokens: WorkloadTokens(store: store),
        connections: connections,
        autoRegistration: AutoRegistration(
            resources: MeshResources(store: store), grace: .seconds(10), logger: quietLogger),
        logger: quietLogger)
}
