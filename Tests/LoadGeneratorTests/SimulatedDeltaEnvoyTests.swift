import EnvoyAPI
import LoadGenerator
import MeshAPI
import Testing
import XDSCache
import XDSTranslator

/// The delta flavour of the simulated Envoy against Trellis' own delta state machine.
@Suite struct SimulatedDeltaEnvoyTests {
    static func converse(
        _ envoy: inout SimulatedDeltaEnvoy, _ server: inout ADSStreamState, _ requests: [SimulatedDeltaEnvoy.Request]
    ) throws -> Int {
        var pending = requests
        var responses = 0
        while !pending.isEmpty {
            let request = pending.removeFirst()
            for case .sendDelta(let response) in try server.receive(delta: request) {
                responses += 1
                pending += try envoy.receive(response)
            }
        }
        return responses
    }

    @Test("a simulated delta sidecar syncs in Envoy's order and gets only the changed endpoints")
    func syncAndChange() throws {
        let config = ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: SimulatedEnvoyTests.mesh)]).config
        let node = try #require(LoadNodes.sidecars(for: config, count: 1).first)
        let proxy = try Proxy(node: node)

        var server = ADSStreamState(delta: true)
        _ = server.update(ProxyTranslator.snapshot(config, for: proxy))
        var envoy = SimulatedDeltaEnvoy(node: node)
        _ = try Self.converse(&envoy, &server, envoy.start())
        #expect(envoy.isSynced)
        #expect(server.syncStatus.keys.sorted() == [.cluster, .endpoint, .listener, .route])
        #expect(server.syncStatus.values.allSatisfy { $0.summary == "SYNCED" })
        let synced = envoy.bytesReceived

        var changed = config
        changed.serviceEntries[0].spec.endpoints.append(WorkloadEntry(address: "10.0.0.6", labels: ["app": "reviews"]))
        var types: [String] = []
        for case .sendDelta(let response) in server.update(ProxyTranslator.snapshot(changed, for: proxy)) {
            types.append(response.typeURL)
            #expect(response.resources.allSatisfy { $0.name.contains("reviews") })
            _ = try Self.converse(&envoy, &server, try envoy.receive(response))
        }
        #expect(types == [ResourceType.endpoint.typeURL], "an endpoint change sends endpoints only")
        #expect(envoy.bytesReceived > synced)
        #expect(server.syncStatus.values.allSatisfy { $0.summary == "SYNCED" })
    }
}
