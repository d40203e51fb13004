import EnvoyAPI
import Testing
import XDSCache

@Suite("ADS stream state machine (state of the world)")
struct ADSStreamStateTests {
    let base = Snapshot([
        Fixture.cluster("a"), Fixture.endpoints("a", port: 1000),
        Fixture.listener("l", routes: ["80"]), Fixture.routes("80", to: "a"),
    ])

    @Test("first request of each type is answered, ACKs are not")
    func firstRequestAndAck() throws {
        var state = ADSStreamState()
        #expect(state.update(base).isEmpty, "nothing is sent before the proxy asks")
        let cds = try state.receive(Fixture.request(.cluster)).responses
        #expect(cds.count == 1)
        #expect(cds[0].names == ["a"])
        let ack = try state.receive(Fixture.request(.cluster, nonce: cds[0].nonce))
        #expect(ack.responses.isEmpty)
        #expect(state.syncStatus[.cluster]?.summary == "SYNCED")
        #expect(state.update(base).isEmpty, "an unchanged snapshot sends nothing")
    }

    @Test("an empty type still gets its first response")
    func emptyFirstResponse() throws {
        var state = ADSStreamState()
        _ = state.update(base)
        let sds = try state.receive(Fixture.request(.secret, names: ["default"])).responses
        #expect(sds.count == 1)
        #expect(sds[0].resources.isEmpty)
    }

    @Test("versions are content hashes: a reconnect sees the same version")
    func stableVersions() throws {
        var first = ADSStreamState()
        var second = ADSStreamState()
        _ = first.update(base)
        _ = second.update(Snapshot([Fixture.cluster("a")]))
        let v1 = try first.receive(Fixture.request(.cluster)).responses[0].versionInfo
        let v2 = try second.receive(Fixture.request(.cluster)).responses[0].versionInfo
        #expect(v1 == v2)
    }

    @Test("a NACK is recorded with Envoy's message and not answered with the same config")
    func nack() throws {
        var state = ADSStreamState()
        _ = state.update(base)
        let cds = try state.receive(Fixture.request(.cluster)).responses[0]
        let actions = try state.receive(Fixture.request(.cluster, nonce: cds.nonce, error: "bad cluster"))
        #expect(actions.responses.isEmpty)
        guard case .rejected(.cluster, _, _, let message) = actions.first else {
            Issue.record("expected a NACK action, got \(actions)")
            return
        }
        #expect(message == "bad cluster")
        #expect(state.syncStatus[.cluster]?.summary == "NACKED")
        #expect(state.syncStatus[.cluster]?.nack?.message == "bad cluster")
    }

    @Test("a request with a stale nonce does not change the subscription")
    func staleNonce() throws {
        var state = ADSStreamState()
        _ = state.update(base)
        let first = try state.receive(Fixture.request(.endpoint, names: ["a"])).responses[0]
        _ = state.update(Snapshot([Fixture.cluster("a"), Fixture.endpoints("a", port: 2000)]))
        // The snapshot change sent a second EDS response; an answer to the first is stale.
        let stale = try state.receive(Fixture.request(.endpoint, names: ["a", "b"], nonce: first.nonce))
        #expect(stale.responses.isEmpty)
    }

    @Test("unknown type_url and a missing node are rejected without touching state")
    func malformed() throws {
        var state = ADSStreamState()
        var request = Fixture.request(.cluster)
        request.typeURL = "type.googleapis.com/not.a.Type"
        #expect(throws: ADSStreamError.unsupportedType("type.googleapis.com/not.a.Type")) {
            try state.receive(request)
        }
        var fresh = ADSStreamState()
        var noNode = Fixture.request(.cluster)
        noNode.clearNode()
        #expect(throws: ADSStreamError.missingNode) { try fresh.receive(noNode) }
    }

    @Test("an EDS request that adds a name is answered although it carries the last nonce")
    func newSubscriptionLooksLikeAck() throws {
        var state = ADSStreamState()
        _ = state.update(
            Snapshot([Fixture.cluster("a"), Fixture.cluster("b"), Fixture.endpoints("a", port: 1), Fixture.endpoints("b", port: 2)]))
        let eds = try state.receive(Fixture.request(.endpoint, names: ["a"])).responses[0]
        let next = try state.receive(Fixture.request(.endpoint, names: ["a", "b"], nonce: eds.nonce)).responses
        #expect(next.count == 1)
        #expect(next[0].names == ["b"])
    }

    @Test("an endpoint change sends only the changed assignment")
    func onlyChangedEndpoints() throws {
        var envoy = SimulatedEnvoy()
        let two = Snapshot([
            Fixture.cluster("a"), Fixture.cluster("b"), Fixture.endpoints("a", port: 1), Fixture.endpoints("b", port: 2),
            Fixture.listener("l", routes: ["80"]), Fixture.routes("80", to: "a"),
        ])
        try envoy.connect(to: two, edsNames: ["a", "b"], routeNames: ["80"])
        let push = envoy.state.update(
            Snapshot([
                Fixture.cluster("a"), Fixture.cluster("b"), Fixture.endpoints("a", port: 1), Fixture.endpoints("b", port: 3),
                Fixture.listener("l", routes: ["80"]), Fixture.routes("80", to: "a"),
            ])
        ).responses
        #expect(push.map(\.type) == [.endpoint])
        #expect(push[0].names == ["b"])
    }

    @Test("a changed cluster gets its endpoints again on Envoy's next EDS request")
    func changedClusterRewarms() throws {
        var envoy = SimulatedEnvoy()
        try envoy.connect(to: base, edsNames: ["a"], routeNames: ["80"])
        let changed = Snapshot([
            Fixture.cluster("a", timeoutSeconds: 5), Fixture.endpoints("a", port: 1000),
            Fixture.listener("l", routes: ["80"]), Fixture.routes("80", to: "a"),
        ])
        let push = envoy.state.update(changed).responses
        #expect(push.map(\.type) == [.cluster])
        let lastEDSNonce = envoy.state.syncStatus[.endpoint]!.sentNonce!
        // Envoy re-warms the cluster and re-requests with the same names and the last nonce.
        let answer = try envoy.state.receive(Fixture.request(.endpoint, names: ["a"], nonce: lastEDSNonce)).responses
        #expect(answer.map(\.names) == [["a"]])
        // ... and that answer's ACK is not answered again.
        let ack = try envoy.state.receive(Fixture.request(.endpoint, names: ["a"], nonce: answer[0].nonce))
        #expect(ack.responses.isEmpty)
    }

    @Test("make before break: routes wait for their new cluster; the old one stays until routes are ACKed")
    func makeBeforeBreak() throws {
        var envoy = SimulatedEnvoy()
        try envoy.connect(to: base, edsNames: ["a"], routeNames: ["80"])
        let moved = Snapshot([
            Fixture.cluster("b"), Fixture.endpoints("b", port: 2000),
            Fixture.listener("l", routes: ["80"]), Fixture.routes("80", to: "b"),
        ])
        let push = envoy.state.update(moved).responses
        #expect(push.map(\.type) == [.cluster], "routes to b must wait until the proxy has b")
        #expect(Set(push[0].names) == ["a", "b"], "a stays while the routes still use it")

        let eds = try envoy.state.receive(Fixture.request(.endpoint, names: ["a", "b"], nonce: envoy.state.syncStatus[.endpoint]!.sentNonce!)).responses
        #expect(eds.map(\.names) == [["b"]])
        _ = try envoy.state.receive(Fixture.request(.endpoint, names: ["a", "b"], nonce: eds[0].nonce))
        let afterCDSAck = try envoy.state.receive(Fixture.request(.cluster, nonce: push[0].nonce)).responses
        #expect(afterCDSAck.map(\.type) == [.route], "routes go once b is ACKed")

        let final = try envoy.state.receive(Fixture.request(.route, names: ["80"], nonce: afterCDSAck[0].nonce)).responses
        #expect(final.map(\.type) == [.cluster])
        #expect(final[0].names == ["b"], "a is removed after the routes moved away from it")
    }

    @Test("a service removed with its listener: its cluster leaves CDS once the listener removal is ACKed")
    func removedServiceReleasesItsCluster() throws {
        var envoy = SimulatedEnvoy()
        try envoy.connect(to: base, edsNames: ["a"], routeNames: ["80"])
        // Nothing left; Envoy keeps the last route configuration it had but no listener names it.
        let push = envoy.state.update(Snapshot()).responses
        #expect(push.map(\.type) == [.listener], "CDS keeps a while listener l (and its routes) may still be in use")
        let afterLDSAck = try envoy.state.receive(Fixture.request(.listener, nonce: push[0].nonce)).responses
        #expect(afterLDSAck.map(\.type) == [.cluster])
        #expect(afterLDSAck.first?.names == [], "no listener names route 80 any more, so nothing holds a")
    }

    @Test("legacy wildcard: an empty CDS list means everything only until the stream names clusters")
    func legacyWildcard() throws {
        var state = ADSStreamState()
        _ = state.update(Snapshot([Fixture.cluster("a"), Fixture.cluster("b")]))
        let first = try state.receive(Fixture.request(.cluster)).responses
        #expect(first.map(\.names) == [["a", "b"]], "the first empty list is a wildcard")

        let named = try state.receive(Fixture.request(.cluster, names: ["a"], nonce: first[0].nonce)).responses
        #expect(named.map(\.names) == [["a"]])

        let emptied = try state.receive(Fixture.request(.cluster, nonce: named[0].nonce)).responses
        #expect(emptied.map(\.names) == [[]], "after naming clusters, an empty list unsubscribes from all")

        let star = try state.receive(Fixture.request(.cluster, names: ["*"], nonce: emptied[0].nonce)).responses
        #expect(star.map(\.names) == [["a", "b"]], "`*` is a wildcard at any time")
        let ack = try state.receive(Fixture.request(.cluster, names: ["*"], nonce: star[0].nonce))
        #expect(ack.responses.isEmpty)
    }
}
