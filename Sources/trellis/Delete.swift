import ArgumentParser
import Foundation
import MeshAPI
import NIOHTTP1

/// `trellis delete KIND NAME` or `trellis delete -f FILE`: remove resources applied through
/// the admin API.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete resources applied through the admin API.",
        discussion: "KIND is any name kubectl takes: \(ResourceKind.commandLineNames).")

    @Argument(help: "KIND NAME, or nothing with -f.")
    var arguments: [String] = []

    @Option(name: .customShort("f"), help: "Delete the resources a file (or directory, or - for stdin) defines.")
    var files: [String] = []

    @Option(name: .customShort("n"), help: "Namespace (for KIND NAME).")
    var namespace: String = "default"

    @Flag(name: .customLong("dry-run"), help: "Check, changing nothing.")
    var dryRun = false

    @Flag(name: .customLong("ignore-not-found"), help: "A resource that does not exist is not an error.")
    var ignoreNotFound = false

    @OptionGroup var connection: AdminConnection

    func validate() throws {
        if files.isEmpty {
            guard arguments.count == 2 else { throw ValidationError("expected KIND NAME, or -f FILE") }
            guard ResourceKind(commandLineName: arguments[0]) != nil else {
                throw ValidationError("unknown kind '\(arguments[0])': expected one of \(ResourceKind.commandLineNames)")
            }
        } else if !arguments.isEmpty {
            throw ValidationError("give KIND NAME or -f FILE, not both")
        }
    }

    func run() async throws {
        var keys: [ResourceKey] = []
        if files.isEmpty {
            keys = [ResourceKey(kind: ResourceKind(commandLineName: arguments[0])!, namespace: namespace, name: arguments[1])]
        } else {
            for file in readFiles(files) {
                do {
                    keys += try ConfigDocuments.split(file.contents).map(\.key)
                } catch {
                    failAndExit("\(file.path): \(error)")
                }
            }
        }
        var failed = false
        for key in keys {
            let path = resourcePath(key.kind, namespace: key.namespace) + "/\(key.name)" + (dryRun ? "?dryRun=true" : "")
            let response = await connection.client.send(.DELETE, path)
            if response.isSuccess {
                print("\(key.kind.qualifiedName) \"\(key.name)\" deleted\(dryRun ? " (dry run)" : "")")
            } else if !(ignoreNotFound && response.status == 404) {
                FileHandle.standardError.write(Data("\(response.errorMessage)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}
