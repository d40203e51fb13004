import Foundation
import MeshAPI
import Testing

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
}
