import Foundation
import MeshAPI
import Testing

@Suite struct BadInputTests {
    @Test("a directory with a file that is not UTF-8: validate names it, serve's scan lists it apart")
    func unreadableFileInDirectory() throws {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("trellis-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }  // best effort: a temp dir
        let good = (directory as NSString).appendingPathComponent("a.yaml")
        let bad = (directory as NSString).appendingPathComponent("b.yaml")
        try Data(resource("DestinationRule", "  host: a", name: "a").utf8).write(to: URL(fileURLWithPath: good))
        try Data([0x6b, 0x3a, 0xff, 0x0a]).write(to: URL(fileURLWithPath: bad))

        #expect(throws: ConfigLoadError(path: bad, reason: "not UTF-8 text")) { try ConfigLoader.loadPaths([directory]) }
        let scan = try ConfigPaths.scanDirectory(directory)
        #expect(scan.files.map(\.path) == [good])
        #expect(scan.unreadable == [ConfigLoadError(path: bad, reason: "not UTF-8 text")])
    }

    @Test func malformedYAMLGivesOneClearDiagnostic() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews
              http: []
            """
        let result = load(yaml, file: "broken.yaml")
        #expect(result.diagnostics.count == 1)
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.source.file == "broken.yaml")
        #expect((6...8).contains(diagnostic.source.line))
        #expect(diagnostic.message.hasPrefix("invalid YAML: "))
        #expect(diagnostic.description.hasPrefix("broken.yaml:\(diagnostic.source.line): VirtualService default/reviews: invalid YAML"))
        // The key is read from the text, so a server keeps the resource's last good version.
        #expect(result.rejected == [ResourceKey(kind: .virtualService, namespace: "default", name: "reviews")])
    }

    @Test func aBrokenDocumentDoesNotHideTheOthers() throws {
        let yaml = resource("DestinationRule", "  host: a", name: "a") + "\n---\nkind: [\n---\n" + resource("DestinationRule", "  host: c", name: "c")
        let result = load(yaml)
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.source.line == 8)
        #expect(result.config.destinationRules.map(\.name) == ["a", "c"])
    }

    @Test(arguments: [
        ("a: b\n  c: d\n", "invalid YAML"),
        ("spec:\n\thosts: [a]\n", "invalid YAML"),
        ("kind: Gateway\nkind: Gateway\n", "duplicate key \"kind\""),
        ("- just\n- a list\n", "expected object, got list"),
        ("hello\n", "expected object, got string"),
        ("{unclosed: \"\n", "invalid YAML"),
        ("\u{0}\u{1}", "invalid YAML"),
    ])
    func garbageNeverCrashes(_ yaml: String, message: String) {
        let result = load(yaml)
        #expect(result.hasErrors)
        #expect(result.errors.contains { $0.message.contains(message) }, "\(result.errorText)")
        #expect(result.config == MeshConfig())
    }

    @Test func emptyInputIsEmptyConfig() {
        for yaml in ["", "\n", "---\n", "# only a comment\n---\n---\n"] {
            let result = load(yaml)
            #expect(result.diagnostics.isEmpty && result.config == MeshConfig() && result.rejected.isEmpty)
        }
    }

    @Test func unreadablePathThrowsAClearError() {
        #expect(throws: ConfigLoadError(path: "/no/such/dir", reason: "no such file or directory")) {
            try ConfigLoader.loadPaths(["/no/such/dir"])
        }
        #expect(ConfigLoadError(path: "/x", reason: "permission denied").description == "cannot read '/x': permission denied")
    }

    @Test func directoriesAreReadRecursivelyInPathOrder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("meshapi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("nested"), withIntermediateDirectories: true)
        try resource("DestinationRule", "  host: b", name: "b").write(to: root.appendingPathComponent("nested/b.yml"), atomically: true, encoding: .utf8)
        try resource("DestinationRule", "  host: a", name: "a").write(to: root.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "not: yaml: at: all".write(to: root.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let result = try ConfigLoader.loadPaths([root.path])
        #expect(!result.hasErrors, "\(result.errorText)")
        #expect(result.config.destinationRules.map(\.source.file) == [root.appendingPathComponent("a.yaml").path, root.appendingPathComponent("nested/b.yml").path])
    }

    @Test func flowSequencesMayHoldColonsLikeKubernetesReadsThem() throws {
        let result = expectValid(resource("ServiceEntry", "  hosts: [a.example.com]\n  addresses: [1.2.3.4, 2001:db8::, \"fe80::1\"]"))
        #expect(result.config.serviceEntries.first?.spec.addresses == ["1.2.3.4", "2001:db8::", "fe80::1"])
    }
}
