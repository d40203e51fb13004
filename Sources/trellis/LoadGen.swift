import ArgumentParser
import ControlPlane
import Foundation
import LoadGenerator
import MeshAPI

struct LoadGen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Load-test an xDS server with simulated Envoy ADS streams.",
        discussion: """
            Opens --proxies state-of-the-world ADS streams, each a sidecar (REDIRECT) in front of an \
            endpoint of the ServiceEntries in --config-dir, asking in Envoy's order and ACKing every \
            response. Reports the time until all are in sync; with --change-file and --change-to it then \
            replaces that file's contents and reports how long until every stream the change \
            concerned had received it (p50/p99/max) and the bytes per stream. --server-pid adds the \
            server's RSS and CPU seconds.
            """)

    @Option(name: .customLong("xds-address"), help: "HOST:PORT of the plaintext ADS server.")
    var xdsAddress: String = "127.0.0.1:15010"

    @Option(name: .customLong("config-dir"), help: "The server's config dir: proxies are modelled on its endpoints.")
    var configDirectory: String

    @Option(help: "How many simulated proxies.")
    var proxies: Int = 100

    @Option(name: .customLong("streams-per-connection"), help: "Streams sharing one HTTP/2 connection (Envoys: 1).")
    var streamsPerConnection: Int = 1

    @Flag(help: "Incremental (delta) ADS streams instead of state of the world.")
    var delta = false

    @Flag(name: .customLong("raw-tcp-baseline"), help: "Also time a bare SwiftNIO server writing the initial sync's bytes to as many connections (the practical limit).")
    var rawTCPBaseline = false

    @Option(name: .customLong("change-file"), help: "A file in the config dir to replace once all are in sync.")
    var changeFile: String?

    @Option(name: .customLong("change-to"), help: "The file whose contents replace --change-file.")
    var changeTo: String?

    @Option(name: .customLong("server-pid"), help: "The server's process id, to report its RSS and CPU time.")
    var serverPID: Int32?

    @Option(help: "Give up after this long (Go duration).")
    var timeout: String = "120s"

    @Option(name: .customLong("settle"), help: "After a change, how long without a response means it is over.")
    var settle: String = "3s"

    func validate() throws {
        guard proxies > 0 else { throw ValidationError("--proxies must be at least 1") }
        guard (changeFile == nil) == (changeTo == nil) else {
            throw ValidationError("--change-file and --change-to go together")
        }
        _ = try parseAddress(xdsAddress, flag: "--xds-address")
        _ = try parseDuration(timeout, flag: "--timeout")
        _ = try parseDuration(settle, flag: "--settle")
    }

    func run() async throws {
        let address = try parseAddress(xdsAddress, flag: "--xds-address")
        let result: LoadResult
        do {
            result = try ConfigLoader.loadPaths([configDirectory])
        } catch {
            failAndExit("\(error)")
        }
        let nodes = LoadNodes.sidecars(for: result.config, count: proxies)
        var change: (@Sendable () throws -> Void)?
        if let changeFile, let changeTo {
            let replacement: Data
            do {
                replacement = try Data(contentsOf: URL(fileURLWithPath: changeTo))
            } catch {
                failAndExit("cannot read --change-to '\(changeTo)': \((error as NSError).localizedDescription)")
            }
            change = { try replacement.write(to: URL(fileURLWithPath: changeFile), options: .atomic) }
        }
        let before = serverPID.flatMap(ProcessUsage.of(pid:))
        let generator = LoadGenerator(
            host: address.host, port: address.port, nodes: nodes, streamsPerConnection: streamsPerConnection,
            delta: delta)
        let report = try await generator.run(
            timeout: .seconds(try parseDuration(timeout, flag: "--timeout")), change: change,
            settle: .milliseconds(Int(try parseDuration(settle, flag: "--settle") * 1000)))
        let after = serverPID.flatMap(ProcessUsage.of(pid:))
        var output = Output(report: report, serverBefore: before, serverAfter: after)
        if rawTCPBaseline {
            let bytes = Int(report.initialBytesPerStream.rounded())
            output.rawTCPBaseline = RawTCPBaselineResult(
                connections: proxies, bytesPerConnection: bytes,
                seconds: try await RawTCPBaseline.measure(connections: proxies, bytes: bytes))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
        if report.synced < report.streams { throw ExitCode(1) }
    }

    struct Output: Encodable {
        var report: LoadReport
        var serverBefore: ProcessUsage?
        var serverAfter: ProcessUsage?
        var rawTCPBaseline: RawTCPBaselineResult?
    }

    struct RawTCPBaselineResult: Encodable {
        var connections: Int
        var bytesPerConnection: Int
        var seconds: Double
    }
}
