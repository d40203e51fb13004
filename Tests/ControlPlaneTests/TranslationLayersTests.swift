import Foundation
import MeshAPI
import Testing
import XDSCache
import XDSTranslator

@testable import ControlPlane

/// Groups of one class share one outbound translation; a new configuration starts afresh.
@Suite struct TranslationLayersTests {
    @Test("replicas share their class's translation; another namespace is another class")
    func sharing() throws {
        let controller = MeshController(certificates: nil, logger: quietLogger)
        controller.apply(ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: ConfigWatcherTests.serviceEntry("a"))]).config)
        var subscriptions = [
            try controller.subscribe(
                node: sidecarNode(ip: "10.0.0.1", workload: "app", labels: ["app": "a"], metadata: [:]), grant: nil,
                trustClaims: false),
            try controller.subscribe(
                node: sidecarNode(ip: "10.0.0.2", workload: "app", labels: ["app": "a"], metadata: [:]), grant: nil,
                trustClaims: false),
            try controller.subscribe(
                node: sidecarNode(ip: "10.0.0.3", workload: "app", namespace: "other", metadata: [:]), grant: nil,
                trustClaims: false),
        ]
        #expect(controller.connectedGroups.count == 3)
        #expect(controller.translatedLayers.classes == 2)
        #expect(controller.translatedLayers.workloads == 3)

        controller.apply(ConfigLoader.load([ConfigFile(path: "mesh.yaml", contents: ConfigWatcherTests.serviceEntry("b"))]).config)
        #expect(controller.translatedLayers.classes == 2, "rebuilt for the new configuration, once per class")
        subscriptions.removeAll()
    }

    static func mesh(ports: String = "[{number: 80, name: http, protocol: HTTP}]", extra: String = "") -> [ConfigFile] {
        [
            ConfigFile(
                path: "mesh.yaml",
                contents: """
                    apiVersion: networking.istio.io/v1
                    kind: ServiceEntry
                    metadata: {name: a}
                    spec:
                      hosts: [a.mesh.test]
                      resolution: STATIC
                      ports: \(ports)
                      endpoints: [{address: 10.0.0.1}]
                    \(extra)
                    """)
        ]
    }

    /// A VirtualService for `a`, appended to `mesh(extra:)`.
    static let routed = """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: a}
        spec:
          hosts: [a.mesh.test]
          http: [{timeout: 3s, route: [{destination: {host: a.mesh.test}}]}]
        """

    @Test("a workload's inbound layer is reused by a new configuration that leaves its ports and the inbound policies alone")
    func inboundCarriesOver() throws {
        let controller = MeshController(certificates: nil, logger: quietLogger)
        controller.apply(ConfigLoader.load(Self.mesh()).config)
        let subscriptions = try ["10.0.0.1", "10.0.0.9"].map { ip in
            try controller.subscribe(
                node: sidecarNode(ip: ip, workload: "app-\(ip)", metadata: [:]), grant: nil, trustClaims: false)
        }
        func inboundListener(_ ip: String) throws -> XDSResource {
            let group = try #require(controller.connectedGroups.first { $0.ipAddresses == [ip] })
            return try #require(controller.snapshot(for: group)?.resource(.listener, named: "virtualInbound"))
        }
        let before = try ["10.0.0.1", "10.0.0.9"].map(inboundListener)

        controller.apply(ConfigLoader.load(Self.mesh(extra: Self.routed)).config)
        #expect(try inboundListener("10.0.0.1") === before[0], "a VirtualService does not shape inbound")
        #expect(try inboundListener("10.0.0.9") === before[1])

        let twoPorts = "[{number: 80, name: http, protocol: HTTP}, {number: 90, name: tcp, protocol: TCP}]"
        controller.apply(ConfigLoader.load(Self.mesh(ports: twoPorts, extra: Self.routed)).config)
        #expect(controller.translatedLayers.endpointUpdates == 0, "a new port is translated")
        #expect(try inboundListener("10.0.0.1").version != before[0].version, "the workload serves a new port")
        #expect(try inboundListener("10.0.0.9") === before[1], "another workload's ports did not change")

        let strict = """
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            """
        controller.apply(ConfigLoader.load(Self.mesh(ports: twoPorts, extra: Self.routed + "\n" + strict)).config)
        #expect(try inboundListener("10.0.0.9") !== before[1], "a PeerAuthentication shapes every inbound layer")
        _ = subscriptions
    }

    @Test("tables that did not change, or that another class has too, are one object")
    func unchangedTablesAreShared() throws {
        let controller = MeshController(certificates: nil, logger: quietLogger)
        controller.apply(ConfigLoader.load(Self.mesh()).config)
        let subscription = try controller.subscribe(
            node: sidecarNode(ip: "10.0.0.9", workload: "client", metadata: [:]), grant: nil, trustClaims: false)
        let group = try #require(controller.connectedGroups.first)
        let clusters = try #require(controller.snapshot(for: group)?.resources(.cluster))
        let routes = try #require(controller.snapshot(for: group)?.resources(.route))

        controller.apply(ConfigLoader.load(Self.mesh(extra: Self.routed)).config)
        let after = try #require(controller.snapshot(for: group))
        #expect(after.resources(.cluster).allSatisfy { clusters[$0.key] === $0.value }, "clusters are the same objects")
        #expect(after.resources(.route).contains { routes[$0.key]?.version != $0.value.version }, "routes changed")

        let moved = Self.mesh(extra: Self.routed).map { file in
            ConfigFile(path: file.path, contents: file.contents.replacingOccurrences(of: "10.0.0.1}", with: "10.0.0.2}"))
        }
        controller.apply(ConfigLoader.load(moved).config)
        #expect(controller.translatedLayers.endpointUpdates == 1, "an endpoint move updates the class, no translation")
        let moving = try #require(controller.snapshot(for: group))
        #expect(moving.resources(.cluster).allSatisfy { clusters[$0.key] === $0.value })
        #expect(moving.resources(.endpoint).contains { after.resource(.endpoint, named: $0.key)?.version != $0.value.version })

        let elsewhere = try controller.subscribe(
            node: sidecarNode(ip: "10.0.0.8", workload: "client", namespace: "other", metadata: [:]), grant: nil,
            trustClaims: false)
        let other = try #require(controller.connectedGroups.first { $0.namespace == "other" })
        #expect(controller.translatedLayers.classes == 2)
        #expect(
            controller.snapshot(for: other)?.resources(.endpoint).allSatisfy { moving.resource(.endpoint, named: $0.key) === $0.value }
                == true, "another class with the same endpoints holds the same table")
        _ = (subscription, elsewhere)
    }
}
