import ArgumentParser
import Foundation
import MeshAPI
import NIOHTTP1

/// `trellis apply -f FILE|DIR|-`: create or update resources through the admin API, all of
/// them or none, validated by the server exactly as the config dir is.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update Istio resources through the admin API (all or nothing).",
        discussion: """
            Every document of every file is validated against the server's whole configuration; \
            if any has an error, nothing is applied and each problem is printed as FILE:LINE. \
            Prints, per resource, created, configured or unchanged.
            """)

    @Option(name: .customShort("f"), help: "A YAML file, a directory of them (recursively), or - for standard input.")
    var files: [String]

    @Flag(name: .customLong("dry-run"), help: "Validate and show what would change, changing nothing.")
    var dryRun = false

    @OptionGroup var connection: AdminConnection

    func run() async throws {
        let response = await sendFiles(readFiles(files), to: "/api/apply" + (dryRun ? "?dryRun=true" : ""), connection)
        guard response.isSuccess else { failWithDiagnostics(response) }
        let result = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
        for warning in result?["warnings"] as? [String] ?? [] {
            FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
        }
        for item in result?["results"] as? [[String: Any]] ?? [] {
            guard let kindName = item["kind"] as? String, let kind = ResourceKind(rawValue: kindName),
                let name = item["name"] as? String, let action = item["action"] as? String
            else { continue }
            print("\(kind.qualifiedName)/\(name) \(action)\(dryRun ? " (dry run)" : "")")
        }
    }
}

/// Posts files (each keeps its path, for diagnostics) to the admin API.
func sendFiles(_ files: [ConfigFile], to path: String, _ connection: AdminConnection) async -> AdminResponse {
    let payload: Data
    do {
        payload = try JSONSerialization.data(
            withJSONObject: ["files": files.map { ["path": $0.path, "contents": $0.contents] }], options: [.sortedKeys])
    } catch {
        failAndExit("cannot encode the request: \(error)")
    }
    return await connection.client.send(
        .POST, path, body: String(decoding: payload, as: UTF8.self), contentType: "application/vnd.trellis.files+json")
}

/// Reads `-f` arguments: files, directories (their `*.yaml`/`*.yml`) and `-` (standard input).
func readFiles(_ paths: [String]) -> [ConfigFile] {
    var files: [ConfigFile] = []
    for path in paths {
        if path == "-" {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            files.append(ConfigFile(path: "<stdin>", contents: String(decoding: input, as: UTF8.self)))
            continue
        }
        do {
            files += try ConfigPaths.read([path])
        } catch {
            failAndExit("\(error)")
        }
    }
    return files
}

/// Prints a refusal as kubectl does, each validation problem on its own line, and exits 1.
func failWithDiagnostics(_ response: AdminResponse) -> Never {
    let status = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
    let causes = (status?["details"] as? [String: Any])?["causes"] as? [[String: Any]] ?? []
    if causes.isEmpty { failAndExit(response.errorMessage) }
    for cause in causes {
        let location = cause["location"] as? String ?? ""
        let warning = cause["severity"] as? String == "warning" ? "warning: " : ""
        let resource = (cause["resource"] as? String).map { "\($0): " } ?? ""
        let field = (cause["field"] as? String).flatMap { $0.isEmpty ? nil : "\($0): " } ?? ""
        FileHandle.standardError.write(Data("\(location): \(warning)\(resource)\(field)\(cause["message"] as? String ?? "")\n".utf8))
    }
    failAndExit("nothing was applied")
}

extension ResourceKind {
    /// `virtualservice.networking.istio.io`, as kubectl names a kind in its output.
    var qualifiedName: String { group.isEmpty ? rawValue.lowercased() : "\(rawValue.lowercased()).\(group)" }
}
