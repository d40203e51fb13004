import MeshAPI
import Testing

@Suite struct DurationTests {
    @Test(arguments: [
        ("1m30s", 90_000), ("1.5s", 1_500), ("100ms", 100), ("1h", 3_600_000), ("0", 0), ("0s", 0),
        ("1h2m3.5s", 3_723_500), (".5s", 500), ("1.s", 1_000), ("1000us", 1), ("2000000ns", 2), ("+3s", 3_000),
        ("-1.5s", -1_500), ("1\u{00B5}s000ns", 0), ("0.001s", 1), ("2562047h", 9_223_369_200_000),
    ] as [(String, Int64)])
    func parsesGoSyntax(_ text: String, milliseconds: Int64) throws {
        if text == "1\u{00B5}s000ns" {
            // Units may repeat; 1µs + 0ns is below a millisecond.
            #expect(throws: DurationError.finerThanMilliseconds(text)) { try IstioDuration(parsing: text) }
            return
        }
        #expect(try IstioDuration(parsing: text).milliseconds == milliseconds)
    }

    @Test(arguments: ["", "1", "s", "1x", "1.2.3s", "--1s", "1 s", "ms", ".s", "3000000h", "1s "])
    func rejectsNonDurations(_ text: String) {
        #expect(throws: DurationError.invalid(text)) { try IstioDuration(parsing: text) }
    }

    @Test(arguments: ["1.5ms", "1us", "500000ns", "1.0001s"])
    func rejectsSubMillisecondPrecision(_ text: String) {
        #expect(throws: DurationError.finerThanMilliseconds(text)) { try IstioDuration(parsing: text) }
    }

    @Test func protobufParts() {
        let duration = IstioDuration(milliseconds: 1_500)
        #expect(duration.seconds == 1 && duration.nanos == 500_000_000)
        let negative = IstioDuration(milliseconds: -1_500)
        #expect(negative.seconds == -1 && negative.nanos == -500_000_000)
        #expect(IstioDuration.seconds(90).description == "90s")
        #expect(duration.description == "1.5s" && IstioDuration(milliseconds: 1).description == "0.001s")
        #expect(IstioDuration(milliseconds: 1) < IstioDuration(milliseconds: 2))
    }

    @Test func durationFieldsNeedAtLeastOneMillisecond() {
        let route = { (timeout: String) in
            virtualService("  hosts: [a]\n  http:\n  - timeout: \(timeout)\n    route: [{destination: {host: a}}]")
        }
        expectError(route("0s"), at: "spec.http[0].timeout", containing: "must be a valid duration greater than 1ms")
        expectError(route("0.5ms"), at: "spec.http[0].timeout", containing: "only durations to ms precision are supported")
        expectError(route("-1s"), at: "spec.http[0].timeout", containing: "greater than 1ms")
        expectError(route("ten"), at: "spec.http[0].timeout", containing: "invalid duration \"ten\"")
        expectValid(route("1ms"))
    }

    @Test func corsMaxAgeIsWholeSeconds() {
        let cors = { (maxAge: String) in
            virtualService("  hosts: [a]\n  http:\n  - corsPolicy: {maxAge: \(maxAge)}\n    route: [{destination: {host: a}}]")
        }
        expectError(cors("1500ms"), at: "spec.http[0].corsPolicy.maxAge", containing: "accurate only to seconds precision")
        expectValid(cors("2s"))
    }
}
