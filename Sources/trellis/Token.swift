import ArgumentParser
import CertificateAuthority
import Foundation

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage bearer tokens for the secure xDS port.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token bound to a namespace and service account and print it (only its hash is stored).",
            discussion: "A running `trellis serve` on the same --data-dir honours it at once.")

        @Option(name: .customLong("data-dir"), help: "The data dir of `trellis serve`.")
        var dataDirectory: String

        @Option(name: .customLong("namespace"), help: "Namespace of the workload.")
        var namespace: String

        @Option(name: .customLong("service-account"), help: "Service account of the workload.")
        var serviceAccount: String

        @Option(name: .customLong("ttl"), help: "Lifetime (Go duration, e.g. 24h); default: no expiry.")
        var ttl: String?

        func validate() throws {
            if let ttl { _ = try parseDuration(ttl, flag: "--ttl") }
            for (flag, value) in [("--namespace", namespace), ("--service-account", serviceAccount)] {
                guard !value.isEmpty, value.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }) else {
                    throw ValidationError("\(flag) '\(value)' must be a DNS label (lowercase letters, digits, '-')")
                }
            }
        }

        func run() throws {
            do {
                try FileManager.default.createDirectory(
                    atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let token = try TokenStore(dataDirectory: dataDirectory).create(
                    namespace: namespace, serviceAccount: serviceAccount,
                    ttl: try ttl.map { try parseDuration($0, flag: "--ttl") })
                print(token)
            } catch {
                failAndExit("cannot create token: \(error)")
            }
        }
    }
}
