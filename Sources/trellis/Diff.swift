import ArgumentParser
import Foundation

/// `trellis diff -f PATH`: what applying PATH would change, per connected group of proxies,
/// validated and translated by the running server; nothing is applied or pushed.
struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what applying files would change for each connected proxy (a dry run: nothing is pushed).",
        discussion: """
            Validation problems are printed as FILE:LINE and exit 1, as for apply. Otherwise, per group \
            of identical proxies, each resource that would be added, removed or changed, a changed one \
            with the lines of its Envoy JSON that differ. Exit 0 with no change, 1 on a problem.
            """)

    @Option(name: .customShort("f"), help: "A YAML file, a directory of them (recursively), or - for standard input.")
    var files: [String]

    @OptionGroup var format: JSONOutputOption

    @OptionGroup var connection: AdminConnection

    func run() async throws {
        let response = await sendFiles(readFiles(files), to: "/api/diff", connection)
        guard response.isSuccess else { failWithDiagnostics(response) }
        if format.isJSON {
            response.printBody()
            return
        }
        let result = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
        for warning in result?["warnings"] as? [String] ?? [] {
            FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
        }
        let proxies = result?["proxies"] as? [[String: Any]] ?? []
        guard !proxies.isEmpty else {
            print("No connected proxy would see a change.")
            return
        }
        for proxy in proxies {
            print("\(proxy["proxy"] as? String ?? ""):")
            for change in proxy["changes"] as? [[String: Any]] ?? [] {
                let type = change["type"] as? String ?? ""
                print("  \(type) \(change["name"] as? String ?? ""): \(change["action"] as? String ?? "")")
                for line in change["diff"] as? [String] ?? [] { print("      \(line)") }
            }
        }
    }
}
