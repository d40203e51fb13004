import AdminAPI
import ArgumentParser
import ConfigStore
import Foundation
import NIOHTTP1

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage bearer tokens for the secure xDS port.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token bound to a namespace and service account and print it (only its hash is stored).",
            discussion: """
                With --server, through the admin API of a running server; with --data-dir and no \
                --server, directly into that data dir's store (a running server on it honours the token at once).
                """)

        @Option(name: .customLong("namespace"), help: "Namespace of the workload.")
        var namespace: String

        @Option(name: .customLong("service-account"), help: "Service account of the workload.")
        var serviceAccount: String

        @Option(name: .customLong("ttl"), help: "Lifetime (Go duration, e.g. 24h); default: no expiry.")
        var ttl: String?

        @Option(name: .customLong("server"), help: "URL of the admin API of `trellis serve` (instead of --data-dir).")
        var server: String?

        @Option(name: .customLong("token-file"), help: "With --server: the file holding the admin token.")
        var tokenFile: String?

        @Option(name: .customLong("data-dir"), help: "The data dir of `trellis serve`: the store to write to, or with --server where its admin-token is.")
        var dataDirectory: String?

        func validate() throws {
            if let ttl { _ = try parseDuration(ttl, flag: "--ttl") }
            for (flag, value) in [("--namespace", namespace), ("--service-account", serviceAccount)] {
                guard !value.isEmpty, value.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }) else {
                    throw ValidationError("\(flag) '\(value)' must be a DNS label (lowercase letters, digits, '-')")
                }
            }
            if server == nil && dataDirectory == nil { throw ValidationError("give --server URL or --data-dir DIR") }
        }

        func run() async throws {
            let seconds = try ttl.map { try parseDuration($0, flag: "--ttl") }
            if let server {
                let client = AdminClient(
                    server: server, token: AdminConnection.token(tokenFile: tokenFile, dataDirectory: dataDirectory))
                var body: [String: Any] = ["namespace": namespace, "serviceAccount": serviceAccount]
                if let seconds { body["ttlSeconds"] = seconds }
                let payload = try JSONSerialization.data(withJSONObject: body)
                let response = await client.send(
                    .POST, "/api/tokens", body: String(decoding: payload, as: UTF8.self), contentType: "application/json")
                guard response.isSuccess,
                    let token = ((try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any])?["token"] as? String
                else { failAndExit(response.errorMessage) }
                print(token)
                return
            }
            guard let dataDirectory else { return }
            do {
                try FileManager.default.createDirectory(
                    atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let store = try SQLiteConfigStore(path: (dataDirectory as NSString).appendingPathComponent("trellis.db"))
                defer { try? store.close() }  // the token is committed (durable) before create returns
                let token = try await WorkloadTokens(store: store).create(
                    namespace: namespace, serviceAccount: serviceAccount, ttl: seconds)
                print(token)
            } catch {
                failAndExit("cannot create token: \(error)")
            }
        }
    }
}
