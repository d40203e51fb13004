import AdminAPI
import CertificateAuthority
import ConfigStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MeshAPI
import Testing

/// The admin API in process (Hummingbird's router test client), on an in-memory store: what a
/// client sends, what it gets back, and what the store holds afterwards.
@Suite struct AdminAPITests {
    static let token = "test-admin-token"
    static let path = "/apis/networking.istio.io/v1/namespaces/default/virtualservices"

    static let destinationRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews.default.svc.cluster.local
          subsets:
          - {name: v1, labels: {version: v1}}

        """

    static func virtualService(subset: String = "v1", name: String = "reviews", extra: String = "") -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: \(name), namespace: default\(extra)}
        spec:
          hosts: [reviews.default.svc.cluster.local]
          http:
          - route:
            - destination: {host: reviews.default.svc.cluster.local, subset: \(subset)}

        """
    }

    struct Setup {
        let store = InMemoryConfigStore()
        var directory: [ConfigFile] = []
        var maxRequestBytes = 1 << 20

        func app() -> some ApplicationProtocol {
            let directory = directory
            let router = AdminRouter(
                resources: MeshResources(store: store, directoryFiles: { directory }), tokens: WorkloadTokens(store: store),
                token: AdminToken(token: AdminAPITests.token),
                maxRequestBytes: maxRequestBytes)
            return Application(router: router.build())
        }
    }

    static var auth: HTTPFields { [.authorization: "Bearer \(token)"] }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    static func apply(_ client: some TestClientProtocol, _ yaml: String, query: String = "") async throws -> TestResponse {
        var headers = auth
        headers[.init("X-Trellis-Source")!] = "mesh.yaml"
        return try await client.execute(uri: "/api/apply" + query, method: .post, headers: headers, body: ByteBuffer(string: yaml))
    }

    @Test func appliedResourcesAreServedBackWithTheirRevision() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            let applied = try await Self.apply(client, Self.destinationRule + "---\n" + Self.virtualService())
            #expect(applied.status == .ok)
            let results = try #require(try Self.json(applied)["results"] as? [[String: Any]])
            #expect(results.map { $0["action"] as? String } == ["created", "created"])

            let one = try await client.execute(uri: Self.path + "/reviews", method: .get, headers: Self.auth)
            #expect(one.status == .ok)
            let object = try Self.json(one)
            let metadata = try #require(object["metadata"] as? [String: Any])
            #expect(metadata["name"] as? String == "reviews")
            #expect(metadata["resourceVersion"] as? String == "1")
            #expect((object["spec"] as? [String: Any])?["hosts"] as? [String] == ["reviews.default.svc.cluster.local"])

            var yamlHeaders = Self.auth
            yamlHeaders[.accept] = "application/yaml"
            let yaml = try await client.execute(uri: Self.path + "/reviews", method: .get, headers: yamlHeaders)
            #expect(String(buffer: yaml.body).contains("resourceVersion: \"1\""))

            let all = try await client.execute(
                uri: "/apis/networking.istio.io/v1/virtualservices", method: .get, headers: Self.auth)
            #expect(try Self.json(all)["kind"] as? String == "VirtualServiceList")
            #expect((try Self.json(all)["items"] as? [Any])?.count == 1)
        }
        #expect(try await setup.store.list(prefix: StoredResource.keyPrefix).entries.count == 2)
    }

    @Test func applyingTheSameResourceAgainChangesNothing() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            _ = try await Self.apply(client, Self.destinationRule)
            let again = try await Self.apply(client, Self.destinationRule)
            let result = try #require(try Self.json(again)["results"] as? [[String: Any]])
            #expect(result.first?["action"] as? String == "unchanged")
            #expect(result.first?["resourceVersion"] as? String == "1")
        }
        #expect(try await setup.store.revision() == 1)
    }

    @Test func aStaleResourceVersionIsAConflictAndChangesNothing() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            _ = try await Self.apply(client, Self.destinationRule + "---\n" + Self.virtualService())
            _ = try await Self.apply(client, Self.virtualService(extra: ", labels: {edited: \"yes\"}"))
            let stale = try await client.execute(
                uri: Self.path + "/reviews", method: .put, headers: Self.auth,
                body: ByteBuffer(string: Self.virtualService(extra: ", resourceVersion: \"1\"")))
            #expect(stale.status == .conflict)
            #expect((try Self.json(stale)["message"] as? String)?.contains("since resourceVersion 1") == true)
        }
        let stored = try #require(try await setup.store.get(StoredResource.storeKey(ResourceKey(kind: .virtualService, namespace: "default", name: "reviews"))))
        #expect(String(decoding: stored.value, as: UTF8.self).contains("edited"))
    }

    @Test func anInvalidDocumentNamesResourceAndFieldAndNothingOfTheRequestIsApplied() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            // The second document routes to a subset the DestinationRule beside it lacks.
            let refused = try await Self.apply(client, Self.destinationRule + "---\n" + Self.virtualService(subset: "v9"))
            #expect(refused.status == .unprocessableContent)
            let status = try Self.json(refused)
            #expect(status["kind"] as? String == "Status")
            let causes = try #require((status["details"] as? [String: Any])?["causes"] as? [[String: Any]])
            let cause = try #require(causes.first { $0["severity"] as? String == "error" })
            #expect(cause["resource"] as? String == "VirtualService default/reviews")
            #expect((cause["field"] as? String)?.hasPrefix("spec.http[0].route[0].destination") == true)
            #expect((cause["location"] as? String)?.hasPrefix("mesh.yaml:") == true)
        }
        #expect(try await setup.store.revision() == 0)
    }

    @Test(arguments: [
        ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x\n", "invalid YAML"),
        ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [a], bogus: 1}\n", "bogus"),
    ])
    func malformedOrUnknownFieldsAreRefused(body: String, mentions: String) async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            let refused = try await Self.apply(client, body)
            #expect(refused.status == .unprocessableContent)
            #expect(String(buffer: refused.body).contains(mentions))
        }
        #expect(try await setup.store.revision() == 0)
    }

    @Test func aPathAndBodyThatDisagreeAreRefused() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            let wrongNamespace = try await client.execute(
                uri: "/apis/networking.istio.io/v1/namespaces/prod/virtualservices/reviews", method: .put, headers: Self.auth,
                body: ByteBuffer(string: Self.virtualService()))
            #expect(wrongNamespace.status == .badRequest)
            #expect(String(buffer: wrongNamespace.body).contains("metadata.namespace"))
            let wrongName = try await client.execute(
                uri: Self.path + "/ratings", method: .put, headers: Self.auth, body: ByteBuffer(string: Self.virtualService()))
            #expect(wrongName.status == .badRequest)
            #expect(String(buffer: wrongName.body).contains("metadata.name"))
        }
        #expect(try await setup.store.revision() == 0)
    }

    @Test func requestsWithoutTheTokenAreUnauthorizedButHealthNeedsNone() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            let none = try await client.execute(uri: Self.path, method: .get)
            #expect(none.status == .unauthorized)
            let wrong = try await client.execute(uri: Self.path, method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let write = try await client.execute(
                uri: "/api/apply", method: .post, headers: [.authorization: "Bearer nope"],
                body: ByteBuffer(string: Self.destinationRule))
            #expect(write.status == .unauthorized)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
        }
        #expect(try await setup.store.revision() == 0)
    }

    @Test func anOversizedBodyIsRefused() async throws {
        var setup = Setup()
        setup.maxRequestBytes = 256
        try await setup.app().test(.router) { client in
            let refused = try await Self.apply(client, Self.destinationRule + String(repeating: "# padding\n", count: 100))
            #expect(refused.status == .contentTooLarge)
        }
        #expect(try await setup.store.revision() == 0)
    }

    @Test func aDryRunAnswersAsIfAppliedAndChangesNothing() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            let dry = try await Self.apply(client, Self.destinationRule, query: "?dryRun=true")
            #expect(dry.status == .ok)
            #expect((try Self.json(dry)["results"] as? [[String: Any]])?.first?["action"] as? String == "created")
            let get = try await client.execute(uri: "/apis/networking.istio.io/v1/namespaces/default/destinationrules/reviews", method: .get, headers: Self.auth)
            #expect(get.status == .notFound)
        }
        #expect(try await setup.store.revision() == 0)
    }

    @Test func deleteRemovesAndAResourceOfTheConfigDirIsNotTheAPIs() async throws {
        var setup = Setup()
        setup.directory = [ConfigFile(path: "/etc/mesh/ratings.yaml", contents: Self.virtualService(name: "ratings"))]
        try await setup.app().test(.router) { client in
            _ = try await Self.apply(client, Self.destinationRule + "---\n" + Self.virtualService())
            let deleted = try await client.execute(uri: Self.path + "/reviews", method: .delete, headers: Self.auth)
            #expect(deleted.status == .ok)
            #expect(try await client.execute(uri: Self.path + "/reviews", method: .get, headers: Self.auth).status == .notFound)
            let dirs = try await client.execute(uri: Self.path + "/ratings", method: .delete, headers: Self.auth)
            #expect(dirs.status == .conflict)
            #expect(String(buffer: dirs.body).contains("/etc/mesh/ratings.yaml"))
            // Applying a resource the config dir defines is an error too: one source per resource.
            let twice = try await Self.apply(client, Self.virtualService(name: "ratings"))
            #expect(twice.status == .unprocessableContent)
            #expect(String(buffer: twice.body).contains("defined both"))
        }
    }

    @Test func unknownKindsAreNotFound() async throws {
        try await Setup().app().test(.router) { client in
            let unknown = try await client.execute(uri: "/apis/networking.istio.io/v1/namespaces/default/widgets", method: .get, headers: Self.auth)
            #expect(unknown.status == .notFound)
            #expect(String(buffer: unknown.body).contains("virtualservices"))
        }
    }

    @Test func aTokenMintedThroughTheAPIIsBoundToItsIdentity() async throws {
        let setup = Setup()
        let token = try await setup.app().test(.router) { client in
            let refused = try await client.execute(
                uri: "/api/tokens", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"namespace": "Default", "serviceAccount": "reviews"}"#))
            #expect(refused.status == .badRequest)
            let minted = try await client.execute(
                uri: "/api/tokens", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"namespace": "default", "serviceAccount": "reviews", "ttlSeconds": 3600}"#))
            #expect(minted.status == .ok)
            return try #require(try Self.json(minted)["token"] as? String)
        }
        let grant = try #require(try await WorkloadTokens(store: setup.store).verify(token))
        #expect(grant.namespace == "default" && grant.serviceAccount == "reviews")
        #expect(try await WorkloadTokens(store: setup.store).verify(token + "x") == nil)
    }

    @Test func aJSONBodyIsAcceptedLikeYAML() async throws {
        let setup = Setup()
        try await setup.app().test(.router) { client in
            let body = #"{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "reviews"}, "#
                + #""spec": {"host": "reviews.default.svc.cluster.local", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}}"#
            var headers = Self.auth
            headers[.contentType] = "application/json"
            let created = try await client.execute(
                uri: "/apis/networking.istio.io/v1/namespaces/default/destinationrules/reviews", method: .put,
                headers: headers, body: ByteBuffer(string: body))
            #expect(created.status == .created)
            let object = try Self.json(created)
            #expect((object["metadata"] as? [String: Any])?["namespace"] as? String == "default")
            #expect(((object["spec"] as? [String: Any])?["subsets"] as? [Any])?.count == 1)
        }
    }
}
