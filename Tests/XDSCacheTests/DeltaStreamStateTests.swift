import EnvoyAPI
import Testing
import XDSCache

typealias DeltaRequest = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
typealias DeltaResponse = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

extension Fixture {
    static func delta(
        _ type: ResourceType, subscribe: [String] = [], unsubscribe: [String] = [], nonce: String = "",
        initial: [String: String] = [:], error: String? = nil
    ) -> DeltaRequest {
        var request = DeltaRequest()
        request.node.id = "sidecar~127.0.0.1~app.default~default.svc.cluster.local"
        request.typeURL = type.typeURL
        request.resourceNamesSubscribe = subscribe
        request.resourceNamesUnsubscribe = unsubscribe
        request.responseNonce = nonce
        request.initialResourceVersions = initial
        if let error { request.errorDetail.message = error }
        return request
    }
}

extension [ADSAction] {
    var deltas: [DeltaResponse] {
        compactMap { if case .sendDelta(let response) = $0 { response } else { nil } }
    }
}

extension DeltaResponse {
    var names: [String] { resources.map(\.name) }
}

@Suite("ADS stream state machine (incremental)")
struct DeltaStreamStateTests {
    let two = Snapshot([Fixture.cluster("a"), Fixture.cluster("b"), Fixture.endpoints("a", port: 1), Fixture.endpoints("b", port: 2)])

    @Test("a first CDS request subscribing to nothing is a wildcard; later changes carry only the difference")
    func wildcardAndChanges() throws {
        var state = ADSStreamState(delta: true)
        _ = state.update(two)
        let first = try state.receive(delta: Fixture.delta(.cluster)).deltas
        #expect(first.map(\.names) == [["a", "b"]])
        #expect(first[0].resources.allSatisfy { !$0.version.isEmpty })
        #expect(try state.receive(delta: Fixture.delta(.cluster, nonce: first[0].nonce)).deltas.isEmpty, "an ACK is not answered")

        let changed = state.update(Snapshot([Fixture.cluster("a", timeoutSeconds: 5), Fixture.endpoints("a", port: 1)])).deltas
        #expect(changed.count == 1)
        #expect(changed[0].names == ["a"], "only the changed cluster")
        #expect(changed[0].removedResources == ["b"])
    }

    @Test("endpoints follow subscribe and unsubscribe; a changed cluster's endpoints are pushed again at once")
    func namedSubscriptions() throws {
        var state = ADSStreamState(delta: true)
        _ = state.update(two)
        let cds = try state.receive(delta: Fixture.delta(.cluster)).deltas
        let eds = try state.receive(delta: Fixture.delta(.endpoint, subscribe: ["a"])).deltas
        #expect(eds.map(\.names) == [["a"]])
        #expect(try state.receive(delta: Fixture.delta(.endpoint, subscribe: ["b"], nonce: eds[0].nonce)).deltas.map(\.names) == [["b"]])
        _ = try state.receive(delta: Fixture.delta(.endpoint, unsubscribe: ["b"]))
        #expect(try state.receive(delta: Fixture.delta(.endpoint, subscribe: ["b"])).deltas.map(\.names) == [["b"]], "subscribing again sends it again")

        // Envoy re-warms a changed cluster without asking again: its endpoints go with it.
        let push = state.update(Snapshot([
            Fixture.cluster("a", timeoutSeconds: 5), Fixture.cluster("b"), Fixture.endpoints("a", port: 1),
            Fixture.endpoints("b", port: 2),
        ]))
        #expect(push.deltas.map(\.typeURL) == [ResourceType.cluster.typeURL, ResourceType.endpoint.typeURL])
        #expect(push.deltas.map(\.names) == [["a"], ["a"]])
        _ = cds
    }

    @Test("a name that does not exist is answered as removed, so the proxy does not wait for it")
    func missingName() throws {
        var state = ADSStreamState(delta: true)
        _ = state.update(two)
        let eds = try state.receive(delta: Fixture.delta(.endpoint, subscribe: ["nothing"])).deltas
        #expect(eds.count == 1)
        #expect(eds[0].resources.isEmpty)
        #expect(eds[0].removedResources == ["nothing"])
    }

    @Test("a reconnect with initial_resource_versions gets only what changed while it was away")
    func reconnect() throws {
        var previous = ADSStreamState(delta: true)
        _ = previous.update(two)
        let had = try previous.receive(delta: Fixture.delta(.cluster)).deltas[0]
        let versions = Dictionary(uniqueKeysWithValues: had.resources.map { ($0.name, $0.version) })

        var state = ADSStreamState(delta: true)
        _ = state.update(Snapshot([Fixture.cluster("a"), Fixture.cluster("c")]))  // b gone, c new, a the same
        let answer = try state.receive(delta: Fixture.delta(.cluster, initial: versions)).deltas
        #expect(answer.count == 1)
        #expect(answer[0].names == ["c"])
        #expect(answer[0].removedResources == ["b"])
    }

    @Test("a NACK is recorded and not answered with the same resources")
    func nack() throws {
        var state = ADSStreamState(delta: true)
        _ = state.update(two)
        let cds = try state.receive(delta: Fixture.delta(.cluster)).deltas
        let after = try state.receive(delta: Fixture.delta(.cluster, nonce: cds[0].nonce, error: "bad cluster"))
        #expect(after.deltas.isEmpty)
        #expect(state.syncStatus[.cluster]?.summary == "NACKED")
    }
}
