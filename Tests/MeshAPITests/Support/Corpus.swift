import Foundation
import MeshAPI
import Testing

/// Istio's corpus, never copied into the repository: `TRELLIS_ISTIO_CORPUS`, else `shared/istio-corpus`
/// beside the repository (where the project's machines have it).
enum Corpus {
    /// `<repo>`, from this file's location in `<repo>/Tests/MeshAPITests/Support`.
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let root: URL = {
        if let configured = ProcessInfo.processInfo.environment["TRELLIS_ISTIO_CORPUS"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        return repository.deletingLastPathComponent().appendingPathComponent("shared/istio-corpus")
    }()

    /// Whether the corpus is there. Without it the suites that need it do not run (and say
    /// why), unless `CI=true`, where its absence is a failure.
    static let isPresent = FileManager.default.fileExists(atPath: root.appendingPathComponent("validation").path)
    static let isRequired = ProcessInfo.processInfo.environment["CI"] == "true"
    static let absence = "Istio's corpus not found at \(root.path) (set TRELLIS_ISTIO_CORPUS to its path): the suites that check against it were not run"

    /// Trellis' own cases for kinds Istio's corpus lacks, in the same format (`Tests/MeshAPITests/Corpus`).
    static let ownRoot = repository.appendingPathComponent("Tests/MeshAPITests/Corpus")

    static func ownDocuments(_ suffix: String) -> [CorpusDocument] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ownRoot.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().flatMap {
            CorpusDocument.split(text(ownRoot.appendingPathComponent($0)), file: "Corpus/\($0)")
        }
    }

    /// The absolute path of a file or folder of the corpus.
    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    static func files(in folder: String, suffix: String) -> [URL] {
        let directory = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func text(_ url: URL) -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// Every document of the validation corpus files ending in `suffix`.
    static func validationDocuments(_ suffix: String) -> [CorpusDocument] {
        files(in: "validation", suffix: suffix).flatMap { CorpusDocument.split(text($0), file: "validation/\($0.lastPathComponent)") }
    }

    static var bookinfoFiles: [String] {
        files(in: "bookinfo", suffix: ".yaml").map(\.lastPathComponent)
    }
}

/// One document of a corpus file, with the `_err` it carries replaced by a comment so that
/// line numbers stay as in the file.
struct CorpusDocument: Sendable, CustomTestStringConvertible {
    var file: String
    var index: Int
    var name: String
    var yaml: String
    /// Istio's expected message (`_err`), nil in the valid files.
    var expectedError: String?

    var testDescription: String { "\(file) document #\(index) (\(name))" }

    static func split(_ text: String, file: String) -> [CorpusDocument] {
        var documents: [CorpusDocument] = []
        var lines: [String] = []
        func flush() {
            defer { lines = [] }
            let content = lines.filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard !content.isEmpty else { return }
            var expected: String?
            var name = "?"
            var yaml: [String] = []
            for line in lines {
                if line.hasPrefix("_err:") {
                    expected = unquote(String(line.dropFirst("_err:".count)).trimmingCharacters(in: .whitespaces))
                    yaml.append("# _err stripped")
                } else {
                    if name == "?", line.hasPrefix("  name:") {
                        name = line.dropFirst("  name:".count).trimmingCharacters(in: .whitespaces)
                    }
                    yaml.append(line)
                }
            }
            documents.append(
                CorpusDocument(
                    file: file, index: documents.count, name: name, yaml: yaml.joined(separator: "\n"),
                    expectedError: expected))
        }
        for line in text.components(separatedBy: "\n") {
            if line == "---" { flush() }
            lines.append(line)
        }
        flush()
        return documents
    }

    private static func unquote(_ text: String) -> String {
        guard text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first else { return text }
        return String(text.dropFirst().dropLast())
    }

    func load() -> LoadResult {
        ConfigLoader.load([ConfigFile(path: "\(file)#\(index)", contents: yaml)])
    }

    /// An invalid document: rejected, with an error reporting its `_err`.
    func expectRejected() throws {
        let expected = try #require(expectedError, "document has no _err")
        let result = load()
        #expect(
            result.errors.contains { diagnostic($0, reports: expected) },
            "expected an error reporting '\(expected)', got:\n\(result.errors.map(\.description).joined(separator: "\n"))")
        #expect(result.config.keys.isEmpty)
    }

    /// A valid document: its one resource loads without errors.
    func expectLoads() {
        let result = load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description).joined(separator: "\n"))")
        #expect(result.config.keys.count == 1)
    }
}

/// Whether a diagnostic reports what Istio's `_err` names. `_err` is either a field path with
/// a Kubernetes-style reason (`spec.hosts: Required value`, `spec.x in body should match`),
/// which must be the diagnostic's field and appear in its message, or a message fragment.
func diagnostic(_ diagnostic: Diagnostic, reports expected: String) -> Bool {
    let pattern = /^(spec[A-Za-z0-9_.\[\]]*)(?:: | in body )(.*)$/
    if let match = expected.wholeMatch(of: pattern) {
        return diagnostic.field == String(match.1) && diagnostic.message.contains(String(match.2))
    }
    return diagnostic.message.contains(expected)
}
