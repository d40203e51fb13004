import ArgumentParser
import ControlPlane
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the control plane: watch a directory of Istio YAML and serve it to Envoys over ADS.")

    @Option(name: .customLong("config-dir"), help: "Directory of Istio resources (YAML), watched for edits.")
    var configDirectory: String

    @Option(name: .customLong("data-dir"), help: "Directory for Trellis' own state (CA keys, store).")
    var dataDirectory: String

    @Option(name: .customLong("xds-address"), help: "HOST:PORT of the plaintext xDS (ADS) server.")
    var xdsAddress: String = "127.0.0.1:15010"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        _ = try parseAddress(xdsAddress, flag: "--xds-address")
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "trellis")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let options = ControlPlaneServer.Options(
            configDirectory: configDirectory, dataDirectory: dataDirectory,
            xdsAddress: try parseAddress(xdsAddress, flag: "--xds-address"))
        do {
            try await ControlPlaneServer(options: options, logger: logger).run()
        } catch let error as ControlPlaneError {
            failAndExit(error.description)
        }
    }
}

/// Parses a HOST:PORT flag, naming the flag in the error.
func parseAddress(_ text: String, flag: String) throws -> HostPort {
    do {
        return try HostPort(parsing: text)
    } catch {
        throw ValidationError("\(flag): \(error)")
    }
}

/// Prints `trellis: error: MESSAGE` to stderr and exits 1.
func failAndExit(_ message: String) -> Never {
    FileHandle.standardError.write(Data("trellis: error: \(message)\n".utf8))
    exit(1)
}
