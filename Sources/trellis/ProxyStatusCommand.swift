import ArgumentParser
import Foundation
import NIOHTTP1

/// `trellis proxy-status`: every proxy connected to the server and, per xDS type, whether it has
/// what it was last sent (Istio's `istioctl proxy-status`).
struct ProxyStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-status",
        abstract: "Show every connected proxy and, per type, SYNCED, STALE (sent, not ACKed), NACKED or NOT SENT.",
        discussion: "A NACKED type is listed again below the table with the error Envoy gave.")

    @OptionGroup var format: JSONOutputOption

    @OptionGroup var connection: AdminConnection

    func run() async throws {
        let response = await connection.client.send(.GET, "/api/proxies")
        guard response.isSuccess else { failAndExit(response.errorMessage) }
        if format.isJSON {
            response.printBody()
            return
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
        let proxies = object?["proxies"] as? [[String: Any]] ?? []
        guard !proxies.isEmpty else {
            FileHandle.standardError.write(Data("No proxies connected.\n".utf8))
            return
        }
        let types = ["CDS", "LDS", "EDS", "RDS", "SDS"]
        var rows = [["NAME", "KIND", "IDENTITY"] + types + ["API", "SINCE", "REPLICA"]]
        var nacks: [String] = []
        for proxy in proxies {
            let node = proxy["node"] as? String ?? ""
            let byType = proxy["types"] as? [String: [String: Any]] ?? [:]
            let since = (proxy["connectedSince"] as? String).flatMap { try? Date($0, strategy: .iso8601) }
            rows.append(
                [node, proxy["kind"] as? String ?? "", proxy["identity"] as? String ?? "-"]
                    + types.map { byType[$0]?["status"] as? String ?? (proxy["remote"] as? Bool == true ? "-" : "NOT SENT") }
                    + [proxy["api"] as? String ?? "", age(since: since), proxy["replica"] as? String ?? "-"])
            for type in types {
                if let message = byType[type]?["nack"] as? String { nacks.append("\(node) \(type) NACKED: \(message)") }
            }
        }
        printTable(rows)
        if !nacks.isEmpty { print("\n" + nacks.joined(separator: "\n")) }
    }
}
