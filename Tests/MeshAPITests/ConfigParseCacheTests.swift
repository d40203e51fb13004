import MeshAPI
import Testing

/// Reloading through the parse cache gives exactly what a fresh load gives: the same config and
/// the same diagnostics (none repeated, none lost), with changed files parsed again.
@Suite struct ConfigParseCacheTests {
    static let service = ConfigFile(
        path: "a.yaml",
        contents: """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: a}
            spec:
              hosts: [a.mesh.test]
              resolution: STATIC
              ports: [{number: 80, name: http, protocol: HTTP}]
              endpoints: [{address: 10.0.0.1}]
            """)

    static func route(to host: String) -> ConfigFile {
        ConfigFile(
            path: "route.yaml",
            contents: """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: r}
                spec:
                  hosts: [\(host)]
                  http: [{route: [{destination: {host: \(host), subset: v1}}], timeout: 1x}]
                """)
    }

    @Test("a cached reload equals a fresh load, diagnostics included, and an edited file is parsed again")
    func cachedEqualsFresh() {
        let cache = ConfigParseCache()
        for files in [
            [Self.service, Self.route(to: "unknown.mesh.test")],
            [Self.service, Self.route(to: "unknown.mesh.test")],
            [Self.service, Self.route(to: "a.mesh.test")],
            [Self.route(to: "a.mesh.test")],
        ] {
            let fresh = ConfigLoader.load(files)
            let cached = ConfigLoader.load(files, cache: cache)
            #expect(cached.config == fresh.config)
            #expect(cached.diagnostics == fresh.diagnostics)
            #expect(cached.rejected == fresh.rejected)
            #expect(!fresh.diagnostics.isEmpty, "the bad timeout is reported every time")
        }
    }
}
