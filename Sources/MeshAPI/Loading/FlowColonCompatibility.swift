import Yams

/// libyaml (inside Yams) rejects a plain scalar in a flow collection when a `:` in it is
/// followed by `,` `]` `}` and the like, e.g. the IPv6 address in `addresses: [1.2.3.4, 001:db8::]`.
/// Kubernetes' Go YAML parser reads such a scalar as a string that ends at the flow indicator,
/// and Istio's own examples rely on that. To read the same files the same way, the rejected
/// scalar is quoted and the document parsed again; nothing else is changed.
enum FlowColonCompatibility {
    /// The text with the scalar that caused `error` quoted, or nil when `error` is another problem.
    static func repair(_ text: String, after error: any Error) -> String? {
        guard case .scanner(let context?, let problem, _, _)? = error as? YamlError,
            problem == "found unexpected ':'", context.text == "while scanning a plain scalar"
        else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        let row = context.mark.line - 1
        let start = context.mark.column - 1
        guard lines.indices.contains(row), start >= 0, start < lines[row].count else { return nil }
        let line = lines[row]
        var end = start
        while end < line.count {
            let scalar = line[end]
            if ",[]{}".unicodeScalars.contains(scalar) || scalar == " " || scalar == "\t" || scalar == "\r" { break }
            end += 1
        }
        var quoted: [Unicode.Scalar] = ["\""]
        for scalar in line[start..<end] {
            if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        lines[row] = Array(line[..<start]) + quoted + Array(line[end...])
        return lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
    }
}
