import LoadGenerator
import Testing

@Suite struct RawTCPBaselineTests {
    @Test("a bare server's write of the same bytes to many loopback connections completes and is timed")
    func measures() async throws {
        let seconds = try await RawTCPBaseline.measure(connections: 20, bytes: 200_000)
        #expect(seconds > 0)
        #expect(seconds < 60)
    }
}
