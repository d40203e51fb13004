public import MeshAPI

/// Fuzz target: any bytes as one YAML file through decoding and validation of every kind.
/// Loading must never trap, and what it returns must hold together.
public enum ConfigFuzzer {
    public static let file = "fuzz.yaml"

    /// Traps (so the fuzzer reports a crash) when an invariant breaks.
    @discardableResult
    public static func fuzz(_ bytes: [UInt8]) -> LoadResult {
        let text = String(decoding: bytes, as: UTF8.self)
        let result = ConfigLoader.load([ConfigFile(path: file, contents: text)])
        let lines = yamlLineCount(text)
        for diagnostic in result.diagnostics {
            // Every problem points into the input, so an editor can jump to it.
            precondition(diagnostic.source.file == file, "diagnostic names another file: \(diagnostic)")
            precondition((1...lines + 1).contains(diagnostic.source.line), "line outside the input: \(diagnostic)")
            precondition(!diagnostic.message.isEmpty, "diagnostic without a message")
        }
        // A rejected resource is never served. (An error may name a served key: an earlier,
        // shadowed definition of it can be broken while the last one, which is served, is fine.)
        precondition(result.config.keys.isDisjoint(with: result.rejected), "rejected resource served")
        return result
    }

    /// Lines as YAML counts them: CR LF, CR, LF, NEL, LS and PS each end one.
    static func yamlLineCount(_ text: String) -> Int {
        var count = 1
        var previousCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if !previousCR { count += 1 }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": count += 1
            default: break
            }
            previousCR = scalar == "\r"
        }
        return count
    }
}
