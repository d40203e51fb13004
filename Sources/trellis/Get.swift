import ArgumentParser
import Foundation
import MeshAPI
import NIOHTTP1

/// `trellis get KIND [NAME]`: resources applied through the admin API, as a table or as the
/// server has them (`-o yaml|json`, with `metadata.resourceVersion`).
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show resources applied through the admin API.",
        discussion: "KIND is any name kubectl takes: \(ResourceKind.commandLineNames).")

    @Argument(help: "The kind: virtualservice, virtualservices, vs, ...")
    var kind: String

    @Argument(help: "One resource's name; all of the namespace's when omitted.")
    var name: String?

    @Option(name: .customShort("n"), help: "Namespace.")
    var namespace: String = "default"

    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Every namespace.")
    var allNamespaces = false

    @Option(name: .customShort("o"), help: "yaml or json; a table when omitted.")
    var output: String?

    @OptionGroup var connection: AdminConnection

    func validate() throws {
        guard ResourceKind(commandLineName: kind) != nil else {
            throw ValidationError("unknown kind '\(kind)': expected one of \(ResourceKind.commandLineNames)")
        }
        if let output, !["yaml", "json"].contains(output) { throw ValidationError("-o must be yaml or json") }
        if allNamespaces && name != nil { throw ValidationError("a resource name cannot be given with -A") }
    }

    func run() async throws {
        let kind = ResourceKind(commandLineName: kind)!
        var path = resourcePath(kind, namespace: allNamespaces ? nil : namespace)
        if let name { path += "/\(name)" }
        let accept = output == "yaml" ? "application/yaml" : "application/json"
        let response = await connection.client.send(.GET, path, headers: [("Accept", accept)])
        guard response.isSuccess else { failAndExit(response.errorMessage) }
        if output != nil {
            response.printBody()
            return
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
        let items = name == nil ? object?["items"] as? [[String: Any]] ?? [] : object.map { [$0] } ?? []
        guard !items.isEmpty else {
            let scope = allNamespaces ? "" : " in \(namespace) namespace"
            FileHandle.standardError.write(Data("No resources found\(scope).\n".utf8))
            return
        }
        var rows = [(allNamespaces ? ["NAMESPACE"] : []) + ["NAME", "RESOURCE VERSION", "AGE"]]
        for item in items {
            let metadata = item["metadata"] as? [String: Any] ?? [:]
            let created = (metadata["creationTimestamp"] as? String).flatMap { try? Date($0, strategy: .iso8601) }
            rows.append(
                (allNamespaces ? [metadata["namespace"] as? String ?? ""] : [])
                    + [metadata["name"] as? String ?? "", metadata["resourceVersion"] as? String ?? "", age(since: created)])
        }
        printTable(rows)
    }
}

/// `/apis/GROUP/VERSION[/namespaces/NS]/PLURAL` (`/api/v1/...` for Secrets).
func resourcePath(_ kind: ResourceKind, namespace: String?) -> String {
    let root = kind.group.isEmpty ? "/api/\(kind.servedVersion)" : "/apis/\(kind.apiVersion)"
    return root + (namespace.map { "/namespaces/\($0)" } ?? "") + "/\(kind.plural)"
}

/// kubectl's AGE column: 45s, 12m, 3h, 5d.
func age(since date: Date?) -> String {
    guard let date else { return "<unknown>" }
    let seconds = max(0, Int(Date().timeIntervalSince(date)))
    switch seconds {
    case ..<120: return "\(seconds)s"
    case ..<7200: return "\(seconds / 60)m"
    case ..<172_800: return "\(seconds / 3600)h"
    default: return "\(seconds / 86400)d"
    }
}
