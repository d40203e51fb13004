import ArgumentParser
import Foundation
import MeshAPI

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check Istio YAML offline: one line per problem, exit 1 if any is an error.",
        discussion: "Each problem prints as FILE:LINE: KIND NAMESPACE/NAME: field.path: message.")

    @Argument(help: "Files or directories of Istio resources.")
    var paths: [String]

    func run() throws {
        let result: LoadResult
        do {
            result = try ConfigLoader.loadPaths(paths)
        } catch {
            failAndExit("\(error)")
        }
        for diagnostic in result.diagnostics {
            print(diagnostic.description)
        }
        if result.hasErrors { throw ExitCode(1) }
    }
}
