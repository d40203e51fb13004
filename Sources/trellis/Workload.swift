import ArgumentParser
import CertificateAuthority
import ControlPlane
import Foundation
import NIOHTTP1

/// `trellis workload register | list | deregister`: VMs and bare hosts joining the mesh.
struct Workload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register VMs and bare hosts as mesh workloads (WorkloadEntries), list and deregister them.",
        subcommands: [Register.self, List.self, Deregister.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update a WorkloadEntry and write everything the host's Envoy needs into a directory.",
            discussion: """
                Writes envoy.yaml (self-contained: `envoy -c DIR/envoy.yaml` joins the mesh on the server's \
                secure xDS port), root-cert.pem, token (0600), cluster.env and trellis-envoy.service. No private \
                key: the proxy gets its certificate over SDS and the server renews it. The token lives until \
                `workload deregister` or `--rotate-token`; re-running register keeps the token DIR already holds. \
                With --interception NONE (the default: no iptables) Envoy serves each --port on ADDRESS and \
                forwards to the application on 127.0.0.1:PORT; the application calls mesh services on \
                127.0.0.1:SERVICE_PORT.
                """)

        @Option(name: .customLong("name"), help: "The WorkloadEntry's name.")
        var name: String

        @Option(name: [.customShort("n"), .customLong("namespace")], help: "Namespace of the workload.")
        var namespace: String

        @Option(name: .customLong("address"), help: "The IP other workloads reach this host at.")
        var address: String

        @Option(name: .customLong("service-account"), help: "The workload's service account (its SPIFFE identity).")
        var serviceAccount: String

        @Option(name: .customLong("labels"), help: "Labels k=v,k2=v2 (services select the workload by them).")
        var labels: String?

        @Option(name: .customLong("group"), help: "A WorkloadGroup of the namespace whose template the entry starts from.")
        var group: String?

        @Option(name: .customLong("port"), help: "name=number: the port the host serves a service port on (repeatable).")
        var ports: [String] = []

        @Option(name: .customLong("network"), help: "The workload's network.")
        var network: String?

        @Option(name: .customLong("locality"), help: "region/zone/subzone.")
        var locality: String?

        @Option(name: .customLong("interception"), help: "NONE (no iptables; the default) or REDIRECT (iptables set up by you).")
        var interception: String = "NONE"

        @Option(name: .customLong("output"), help: "Directory to write the host's files into.")
        var output: String

        @Option(
            name: .customLong("xds-address"),
            help: "HOST:PORT the host reaches a replica's secure xDS port at; repeat it for each replica (default: as the server reports it).")
        var xdsAddress: [String] = []

        @Option(name: .customLong("admin-address"), help: "HOST:PORT for the host's Envoy admin interface.")
        var adminAddress: String = "127.0.0.1:15000"

        @Flag(name: .customLong("rotate-token"), help: "Revoke this workload's earlier tokens (their streams end) and write a new one.")
        var rotateToken = false

        @Flag(name: .customLong("delta"), help: "Use incremental (delta) ADS.")
        var delta = false

        @Option(name: .customLong("install-dir"), help: "Where the files will be on the host, for the systemd unit (default: --output).")
        var installDirectory: String?

        @Option(name: .customLong("envoy-path"), help: "Envoy's binary on the host, for the systemd unit.")
        var envoyPath: String = "/usr/local/bin/envoy"

        @OptionGroup var connection: AdminConnection

        func validate() throws {
            _ = try parsedPorts()
            _ = try parsedLabels()
            _ = try parseAddress(adminAddress, flag: "--admin-address")
            _ = try parseAddresses(xdsAddress, flag: "--xds-address")
            guard ["NONE", "REDIRECT"].contains(interception) else {
                throw ValidationError("--interception must be NONE or REDIRECT")
            }
        }

        func run() async throws {
            var body: [String: Any] = [
                "name": name, "namespace": namespace, "address": address, "serviceAccount": serviceAccount,
                "interception": interception, "rotateToken": rotateToken,
            ]
            if let labels = try parsedLabels() { body["labels"] = labels }
            if let group { body["group"] = group }
            let ports = try parsedPorts()
            if !ports.isEmpty { body["ports"] = ports }
            if let network { body["network"] = network }
            if let locality { body["locality"] = locality }
            let tokenPath = (output as NSString).appendingPathComponent("token")
            if !rotateToken, let kept = try? String(contentsOfFile: tokenPath, encoding: .utf8) {
                // Offered, not trusted: the server keeps it only if it is valid for this workload.
                body["token"] = kept.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let response = await connection.client.send(
                .POST, "/api/workloads", body: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
                contentType: "application/json")
            guard response.isSuccess,
                let answer = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any],
                let token = answer["token"] as? String, let rootCertificate = answer["rootCertificate"] as? String,
                let serverAddress = answer["secureXDSAddress"] as? String
            else { failAndExit(response.errorMessage) }
            for warning in answer["warnings"] as? [String] ?? [] {
                FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
            }
            let files = WorkloadFiles(
                name: name, namespace: namespace, address: address, serviceAccount: serviceAccount,
                labels: answer["labels"] as? [String: String] ?? [:], ports: ports.mapValues { UInt32($0) }, network: network,
                interception: interception, trustDomain: answer["trustDomain"] as? String ?? "cluster.local",
                xdsAddresses: xdsAddress.isEmpty
                    ? [reachable(try parseAddress(serverAddress, flag: "secureXDSAddress"))]
                    : try parseAddresses(xdsAddress, flag: "--xds-address"),
                adminAddress: try parseAddress(adminAddress, flag: "--admin-address"),
                rootCertificatePEM: rootCertificate, token: token, delta: delta,
                installDirectory: installDirectory ?? URL(fileURLWithPath: output).standardizedFileURL.path,
                envoyPath: envoyPath)
            do {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                for file in try files.files() {
                    let path = (output as NSString).appendingPathComponent(file.name)
                    try SecretFiles.write(file.contents, to: path, mode: file.mode)
                }
            } catch {
                failAndExit("the workload is registered but its files cannot be written to '\(output)': \(error); run register again")
            }
            print("workloadentry.networking.istio.io/\(name) \(answer["action"] as? String ?? "registered")")
            print("wrote \(output)/: envoy.yaml root-cert.pem token cluster.env trellis-envoy.service")
        }

        /// The secure port as the server reports it, with a wildcard listen address (0.0.0.0, ::)
        /// replaced by the host this command reached the server at.
        private func reachable(_ address: HostPort) -> HostPort {
            guard ["0.0.0.0", "::", "[::]"].contains(address.host),
                let host = URL(string: connection.server)?.host, !host.isEmpty
            else { return address }
            return HostPort(host: host, port: address.port)
        }

        private func parsedPorts() throws -> [String: Int] {
            var result: [String: Int] = [:]
            for item in ports {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let number = Int(parts[1]), (1...65535).contains(number) else {
                    throw ValidationError("--port '\(item)' must be name=number (a port from 1 to 65535)")
                }
                result[parts[0]] = number
            }
            return result
        }

        private func parsedLabels() throws -> [String: String]? {
            guard let labels else { return nil }
            guard case .map(let map)? = NodeMetadataValue.parse(key: "LABELS", value: labels) else {
                throw ValidationError("--labels '\(labels)' must be k=v,k2=v2")
            }
            return map
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List WorkloadEntries with the proxies connected for each.")

        @Option(name: [.customShort("n"), .customLong("namespace")], help: "Namespace.")
        var namespace: String = "default"

        @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Every namespace.")
        var allNamespaces = false

        @OptionGroup var format: JSONOutputOption

        @OptionGroup var connection: AdminConnection

        func run() async throws {
            let query = allNamespaces ? "" : "?namespace=\(namespace)"
            let response = await connection.client.send(.GET, "/api/workloads" + query)
            guard response.isSuccess else { failAndExit(response.errorMessage) }
            if format.isJSON {
                response.printBody()
                return
            }
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
            let items = object?["items"] as? [[String: Any]] ?? []
            guard !items.isEmpty else {
                FileHandle.standardError.write(Data("No workloads found\(allNamespaces ? "" : " in \(namespace) namespace").\n".utf8))
                return
            }
            var rows = [
                (allNamespaces ? ["NAMESPACE"] : []) + ["NAME", "ADDRESS", "SERVICE ACCOUNT", "GROUP", "CONNECTED", "SINCE"]
            ]
            for item in items {
                let proxies = item["proxies"] as? [[String: Any]] ?? []
                let since = (proxies.first?["connectedSince"] as? String).flatMap { try? Date($0, strategy: .iso8601) }
                rows.append(
                    (allNamespaces ? [item["namespace"] as? String ?? ""] : []) + [
                        item["name"] as? String ?? "", item["address"] as? String ?? "",
                        item["serviceAccount"] as? String ?? "",
                        (item["group"] as? String).map { $0 + ((item["autoRegistered"] as? Bool) == true ? " (auto)" : "") } ?? "-",
                        proxies.isEmpty ? "no" : "yes", proxies.isEmpty ? "-" : age(since: since),
                    ])
            }
            printTable(rows)
        }
    }

    struct Deregister: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a WorkloadEntry and revoke its tokens: its proxy's stream ends and its endpoint leaves every proxy.")

        @Argument(help: "The WorkloadEntry's name.")
        var name: String

        @Option(name: [.customShort("n"), .customLong("namespace")], help: "Namespace.")
        var namespace: String = "default"

        @OptionGroup var connection: AdminConnection

        func run() async throws {
            let response = await connection.client.send(.DELETE, "/api/workloads/\(namespace)/\(name)")
            guard response.isSuccess else { failAndExit(response.errorMessage) }
            print("workloadentry.networking.istio.io/\(name) deregistered")
        }
    }
}
