import EnvoyAPI
import LoadGenerator
import MeshAPI
import Testing
import XDSCache
import XDSTranslator

/// The load generator's simulated Envoy against Trellis' own ADS state machine, in process:
/// they must reach sync in Envoy's order and follow a change with nothing left unanswered.
@Suite struct SimulatedEnvoyTests {
    static let mesh = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: reviews}
        spec:
          hosts: [reviews.default.svc.cluster.local]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: 9080, name: http, protocol: HTTP}]
          endpoints: [{address: 10.0.0.5, labels: {app: reviews}}]
        """

    /// Feeds each side's output to the other until neither has anything to say.
    static func converse(_ envoy: inout SimulatedEnvoy, _ server: inout ADSStreamState, _ requests: [SimulatedEnvoy.Request]) throws -> Int {
        var pending = requests
        var responses = 0
        while !pending.isEmpty {
            let request = pending.removeFirst()
            for case .send(let response) in try server.receive(request) {
                responses += 1
                pending += try envoy.receive(response)
            }
        }
        return responses
    }

    @Test("a simulated sidecar syncs in Envoy's order and follows an endpoint change")
    func syncAndChange() throws {
        let config = ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: Self.mesh)]).config
        let node = try #require(LoadNodes.sidecars(for: config, count: 1).first)
        #expect(node.id == "sidecar~10.0.0.5~reviews-0.default~default.svc.cluster.local")
        let proxy = try Proxy(node: node)
        #expect(proxy.labels == ["app": "reviews"] && proxy.interceptionMode == .redirect)

        var server = ADSStreamState()
        _ = server.update(ProxyTranslator.snapshot(config, for: proxy))
        var envoy = SimulatedEnvoy(node: node)
        _ = try Self.converse(&envoy, &server, envoy.start())
        #expect(envoy.isSynced)
        #expect(server.syncStatus.keys.sorted() == [.cluster, .endpoint, .listener, .route])
        #expect(server.syncStatus.values.allSatisfy { $0.summary == "SYNCED" })

        var changed = config
        changed.serviceEntries[0].spec.endpoints.append(WorkloadEntry(address: "10.0.0.6", labels: ["app": "reviews"]))
        var responses = 0
        for case .send(let response) in server.update(ProxyTranslator.snapshot(changed, for: proxy)) {
            responses += 1
            responses += try Self.converse(&envoy, &server, try envoy.receive(response))
        }
        #expect(responses >= 1)
        #expect(server.syncStatus.values.allSatisfy { $0.summary == "SYNCED" })
    }
}
