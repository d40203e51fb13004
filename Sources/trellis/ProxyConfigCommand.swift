import AdminAPI
import ArgumentParser
import Foundation
import NIOHTTP1
import Yams

/// `trellis proxy-config NODE [TYPE]`: what the server serves one connected proxy, as Envoy
/// JSON (Istio's `istioctl proxy-config`), secrets reduced to names, SANs, serials and expiry.
struct ProxyConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-config",
        abstract: "Show the configuration a connected proxy is served, as Envoy JSON (secrets redacted).",
        discussion: "NODE is the proxy's node id, as `trellis proxy-status` lists it.")

    @Argument(help: "The proxy's node id.")
    var node: String

    @Argument(help: "clusters, listeners, routes, endpoints, secrets or all.")
    var type: String = "all"

    @Option(name: .customShort("o"), help: "json (default) or yaml.")
    var output: String = "json"

    @OptionGroup var connection: AdminConnection

    func validate() throws {
        guard ProxyStatus.configTypes.contains(type) else {
            throw ValidationError("TYPE must be one of \(ProxyStatus.configTypes.joined(separator: ", "))")
        }
        guard ["json", "yaml"].contains(output) else { throw ValidationError("-o must be json or yaml") }
    }

    func run() async throws {
        let path = node.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? node
        let response = await connection.client.send(.GET, "/api/proxies/\(path)/config?type=\(type)")
        guard response.isSuccess else { failAndExit(response.errorMessage) }
        guard output == "yaml" else {
            response.printBody()
            return
        }
        do {
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8))
            print(try Yams.dump(object: object, sortKeys: true), terminator: "")
        } catch {
            failAndExit("the server's answer is not JSON: \(error)")
        }
    }
}
