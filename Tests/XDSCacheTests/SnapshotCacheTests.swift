import Testing
import XDSCache

@Suite struct SnapshotCacheTests {
    @Test("a snapshot from an older configuration never replaces a newer one")
    func olderGenerationIsDropped() {
        let cache = SnapshotCache<String>()
        let subscription = cache.watch("group", generation: 1) { _ in Snapshot([Fixture.cluster("v1")]) }
        let newer = Snapshot([Fixture.cluster("v3")])
        cache.set(newer, for: "group", generation: 3)
        // A slow rebuild of generation 2 finishing after generation 3's.
        cache.set(Snapshot([Fixture.cluster("v2")]), for: "group", generation: 2)
        #expect(cache.snapshot(for: "group") == newer)
        // The same generation may change (a certificate renewal rebuilds without a new config).
        let renewed = Snapshot([Fixture.cluster("v3"), Fixture.cluster("secret")])
        cache.set(renewed, for: "group", generation: 3)
        #expect(cache.snapshot(for: "group") == renewed)
        _ = subscription
    }
}
