import EnvoyAPI
import Testing
import XDSCache

/// A client that asks for every type by name, the way gRPC's xDS client does: the listener by
/// target, then the route configuration it names, then the clusters the routes use, then their
/// endpoints. It learns of a cluster only from a route, so routes cannot wait for its clusters.
@Suite("ADS stream state: clients that subscribe to clusters by name (gRPC)")
struct NamedClusterSubscriptionTests {
    let base = Snapshot([
        Fixture.cluster("a"), Fixture.endpoints("a", port: 1000),
        Fixture.cluster("b"), Fixture.endpoints("b", port: 2000),
        Fixture.listener("greeter:7070", routes: ["r"]), Fixture.routes("r", to: "a"),
    ])

    /// LDS, RDS, CDS and EDS by name, each ACKed; returns the state and the last nonce per type.
    func connected() throws -> (ADSStreamState, [ResourceType: String]) {
        var state = ADSStreamState()
        _ = state.update(base)
        var nonces: [ResourceType: String] = [:]
        for (type, names) in [(ResourceType.listener, ["greeter:7070"]), (.route, ["r"]), (.cluster, ["a"]), (.endpoint, ["a"])] {
            let response = try #require(try state.receive(Fixture.request(type, names: names)).responses.first)
            #expect(response.names == names, "\(type.shortName) answers exactly the names asked for")
            _ = try state.receive(Fixture.request(type, names: names, nonce: response.nonce))
            nonces[type] = response.nonce
        }
        return (state, nonces)
    }

    @Test("a route to a cluster the client has not asked for yet goes out at once")
    func routeToUnsubscribedCluster() throws {
        var (state, nonces) = try connected()
        let moved = Snapshot([
            Fixture.cluster("a"), Fixture.endpoints("a", port: 1000),
            Fixture.cluster("b"), Fixture.endpoints("b", port: 2000),
            Fixture.listener("greeter:7070", routes: ["r"]), Fixture.routes("r", to: "b"),
        ])
        let push = state.update(moved).responses
        #expect(push.map(\.type) == [.route], "waiting for b would wait forever: the client asks for b after this route")

        // The client now asks for b as well (with the last CDS nonce: a changed subscription).
        let cds = try state.receive(Fixture.request(.cluster, names: ["a", "b"], nonce: nonces[.cluster]!)).responses
        #expect(cds.map(\.names) == [["a", "b"]])
        let eds = try state.receive(Fixture.request(.endpoint, names: ["a", "b"], nonce: nonces[.endpoint]!)).responses
        #expect(eds.map(\.names) == [["b"]])

        // After the route ACK it drops a; a full-state CDS answer then carries b only.
        _ = try state.receive(Fixture.request(.route, names: ["r"], nonce: push[0].nonce))
        _ = try state.receive(Fixture.request(.cluster, names: ["a", "b"], nonce: cds[0].nonce))
        let dropped = try state.receive(Fixture.request(.cluster, names: ["b"], nonce: cds[0].nonce)).responses
        #expect(dropped.map(\.names) == [["b"]])
    }

    @Test("a listener the snapshot lacks is left out of the answer, and the stream goes on")
    func unknownListener() throws {
        var (state, nonces) = try connected()
        let answer = try state.receive(
            Fixture.request(.listener, names: ["greeter:7070", "nowhere:1"], nonce: nonces[.listener]!)).responses
        #expect(answer.map(\.names) == [["greeter:7070"]], "gRPC reads an absent listener as 'does not exist'")
        let ack = try state.receive(Fixture.request(.listener, names: ["greeter:7070", "nowhere:1"], nonce: answer[0].nonce))
        #expect(ack.responses.isEmpty)
    }
}
