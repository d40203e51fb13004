import AdminAPI
import CertificateAuthority
import ConfigStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MeshAPI
import Testing

/// `POST /api/workloads` and `DELETE /api/workloads/NS/NAME`: what a registration stores (the
/// entry, the Sidecar that gives a no-iptables VM its inbound listeners, a token bound to the
/// entry) and what a deregistration takes away, all in single transactions.
@Suite struct WorkloadRegistrationTests {
    static func register(_ client: some TestClientProtocol, _ fields: String) async throws -> TestResponse {
        // JSON keeps the first of repeated keys: `fields` may give its own address.
        let address = fields.contains(#""address""#) ? "" : #", "address": "10.0.0.9""#
        let body = #"{"name": "vm1", "namespace": "default", "serviceAccount": "vm", "#
            + #""labels": {"app": "ratings"}, "ports": {"http": 9080}"# + address + fields + "}"
        return try await client.execute(
            uri: "/api/workloads", method: .post, headers: AdminAPITests.auth, body: ByteBuffer(string: body))
    }

    static func keys(_ store: InMemoryConfigStore) async throws -> [String] {
        try await store.list(prefix: "").entries.map(\.key)
    }

    @Test func registrationStoresEntrySidecarAndAWorkloadBoundTokenAndDeregistrationTakesThemAway() async throws {
        let setup = AdminAPITests.Setup()
        let tokens = WorkloadTokens(store: setup.store)
        try await setup.app().test(.router) { client in
            let created = try await Self.register(client, "")
            #expect(created.status == .ok)
            let answer = try AdminAPITests.json(created)
            #expect(answer["action"] as? String == "created")
            #expect((answer["labels"] as? [String: String])?["trellis.dev/workload"] == "vm1")
            let first = try #require(answer["token"] as? String)
            let grant = try #require(try await tokens.verify(first))
            #expect(grant.workload == "vm1" && grant.serviceAccount == "vm")
            let stored = try await Self.keys(setup.store)
            #expect(stored.contains("/resources/networking.istio.io/WorkloadEntry/default/vm1"))
            #expect(stored.contains("/resources/networking.istio.io/Sidecar/default/vm1"))

            // Offering the token it holds keeps it; rotating revokes it.
            let again = try AdminAPITests.json(try await Self.register(client, #", "token": "\#(first)""#))
            #expect(again["token"] as? String == first && again["action"] as? String == "unchanged")
            let rotated = try AdminAPITests.json(try await Self.register(client, #", "rotateToken": true"#))
            let second = try #require(rotated["token"] as? String)
            #expect(second != first)
            #expect(try await tokens.verify(first) == nil)

            let gone = try await client.execute(
                uri: "/api/workloads/default/vm1", method: .delete, headers: AdminAPITests.auth)
            #expect(gone.status == .ok)
            #expect(try await tokens.verify(second) == nil)
            #expect(try await Self.keys(setup.store).isEmpty)
        }
    }

    @Test(arguments: [
        (#", "address": "vm.example.com""#, HTTPResponse.Status.badRequest, "not an IP address"),
        (#", "interception": "NONE", "address": "127.0.0.1""#, .badRequest, "127.0.0.1"),
        (#", "group": "web""#, .notFound, "workloadgroup default/web not found"),
        (#", "interception": "SOMETIMES""#, .badRequest, "interception"),
    ])
    func badRegistrationsChangeNothing(fields: String, status: HTTPResponse.Status, mentions: String) async throws {
        let setup = AdminAPITests.Setup()
        try await setup.app().test(.router) { client in
            let refused = try await Self.register(client, fields)
            #expect(refused.status == status)
            #expect(String(buffer: refused.body).contains(mentions), "\(String(buffer: refused.body))")
        }
        #expect(try await Self.keys(setup.store).isEmpty)
    }

    @Test func aNameTheConfigDirHoldsIsNotTakenOver() async throws {
        var setup = AdminAPITests.Setup()
        setup.directory = [
            ConfigFile(
                path: "vms.yaml",
                contents: """
                    apiVersion: networking.istio.io/v1
                    kind: Sidecar
                    metadata: {name: vm1, namespace: default}
                    spec:
                      egress: [{hosts: ["./*"]}]
                    """)
        ]
        try await setup.app().test(.router) { client in
            let refused = try await Self.register(client, "")
            #expect(refused.status == .conflict)
            #expect(String(buffer: refused.body).contains("Sidecar default/vm1"))
        }
        #expect(try await Self.keys(setup.store).isEmpty)
    }
}
