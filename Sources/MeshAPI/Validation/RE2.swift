import Foundation

/// Checks that a regular expression is valid RE2 (Go's `regexp` syntax), which is what Envoy
/// and Istio run. ICU (NSRegularExpression) accepts more — look-around, back-references,
/// possessive and atomic groups — so those are rejected by a scan first, and ICU then catches
/// what both reject (unbalanced parentheses, bad ranges, nothing to repeat).
enum RE2 {
    /// nil when valid; otherwise why not, phrased for the user.
    static func problem(_ pattern: String) -> String? {
        if pattern.utf8.count > 1024 { return "regex is too large, max length allowed is 1024" }
        var scanner = Scanner(Array(pattern.unicodeScalars))
        if let problem = scanner.scan() {
            return "\(problem); Istio uses RE2 (https://github.com/google/re2/wiki/Syntax)"
        }
        do {
            _ = try NSRegularExpression(pattern: scanner.icuPattern)
            return nil
        } catch {
            return "invalid regular expression \"\(pattern)\""
        }
    }

    /// One pass over the pattern: rejects non-RE2 syntax and builds the ICU spelling of the
    /// RE2-only syntax (`(?P<name>`, the `U` flag).
    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0
        var icuPattern = ""

        init(_ scalars: [Unicode.Scalar]) {
            self.scalars = scalars
        }

        private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }

        private mutating func take(_ count: Int = 1) {
            for _ in 0..<count where index < scalars.count {
                icuPattern.unicodeScalars.append(scalars[index])
                index += 1
            }
        }

        mutating func scan() -> String? {
            while let c = peek() {
                switch c {
                case "\\":
                    if let problem = escape(inClass: false) { return problem }
                case "[":
                    if let problem = characterClass() { return problem }
                case "(":
                    if let problem = group() { return problem }
                case "*", "+", "?":
                    take()
                    if let problem = afterQuantifier() { return problem }
                case "{" where repeatLength() != nil:
                    let (length, ok) = repeatLength()!
                    if !ok { return "invalid repeat count" }
                    take(length)
                    if let problem = afterQuantifier() { return problem }
                default:
                    take()
                }
            }
            return nil
        }

        /// After `*`, `+`, `?` or `{n,m}`: an optional lazy `?`, then no further quantifier.
        private mutating func afterQuantifier() -> String? {
            if peek() == "?" { take() }
            switch peek() {
            case "+": return "possessive quantifiers (e.g. a*+) are not supported"
            case "*", "?": return "invalid nested repetition operator"
            case "{" where repeatLength() != nil: return "invalid nested repetition operator"
            default: return nil
            }
        }

        /// The length of a `{n}`, `{n,}` or `{n,m}` at the current position, and whether its
        /// counts are within RE2's limit of 1000; nil when the brace is a literal.
        private func repeatLength() -> (Int, Bool)? {
            var offset = 1
            var numbers: [String] = [""]
            while let c = peek(offset), c != "}" {
                if c == "," {
                    guard numbers.count == 1 else { return nil }
                    numbers.append("")
                } else if c.properties.numericType != nil, c.isASCII {
                    numbers[numbers.count - 1].unicodeScalars.append(c)
                } else {
                    return nil
                }
                offset += 1
            }
            guard peek(offset) == "}", !numbers[0].isEmpty else { return nil }
            let values = numbers.compactMap { Int($0) }
            let ok = values.allSatisfy { $0 <= 1000 } && (values.count < 2 || values[0] <= values[1])
            return (offset + 1, ok)
        }

        private mutating func escape(inClass: Bool) -> String? {
            guard let next = peek(1) else { return "trailing backslash at end of expression" }
            switch next {
            case "1"..."9":
                return "back-references (\\\(next)) are not supported"
            case "Q":
                // Literal text up to \E.
                take(2)
                while peek() != nil && !(peek() == "\\" && peek(1) == "E") { take() }
                take(2)
                return nil
            case "a", "f", "t", "n", "r", "v", "d", "D", "s", "S", "w", "W", "0":
                take(2)
                return nil
            case "b", "B", "A", "z":
                if inClass { return "invalid escape sequence \\\(next) in character class" }
                take(2)
                return nil
            case "x", "p", "P":
                take(2)
                if peek() == "{" {
                    while let c = peek(), c != "}" { take() }
                    take()
                } else if next == "x" {
                    take(2)
                } else if let name = peek() {
                    // ICU only knows the braced form of one-letter classes (\pL → \p{L}).
                    icuPattern += "{\(name)}"
                    index += 1
                }
                return nil
            default:
                if next.properties.isAlphabetic || next.properties.numericType != nil {
                    return "invalid escape sequence \\\(next)"
                }
                take(2)
                return nil
            }
        }

        private mutating func characterClass() -> String? {
            take()  // [
            if peek() == "^" { take() }
            if peek() == "]" { take() }
            while let c = peek() {
                if c == "]" {
                    take()
                    return nil
                }
                if c == "[" && peek(1) == ":" {
                    while let d = peek(), !(d == ":" && peek(1) == "]") { take() }
                    take(2)
                    continue
                }
                if c == "\\" {
                    if let problem = escape(inClass: true) { return problem }
                    continue
                }
                take()
            }
            return "missing closing ]"
        }

        private mutating func group() -> String? {
            guard peek(1) == "?" else {
                take()
                return nil
            }
            let third = peek(2)
            switch third {
            case "=", "!": return "look-ahead groups (?\(third!)...) are not supported"
            case "<" where peek(3) == "=" || peek(3) == "!":
                return "look-behind groups (?<\(peek(3)!)...) are not supported"
            case ">": return "atomic groups (?>...) are not supported"
            case "#": return "comment groups (?#...) are not supported"
            case "P":
                guard peek(3) == "<" else { return "named back-references and recursion (?P\(peek(3).map(String.init) ?? "")...) are not supported" }
                // ICU spells named groups (?<name>...).
                icuPattern += "(?<"
                index += 4
                return nil
            case "<":
                take(3)
                return nil
            case ":":
                take(3)
                return nil
            default:
                // Flags: (?i) (?-s) (?im:...). RE2 knows i, m, s and U; ICU has no U (ungreedy),
                // which only changes what matches, not whether the pattern is valid.
                var offset = 2
                var flags = ""
                var written = 0
                while let c = peek(offset), c != ")" && c != ":" {
                    written += 1
                    guard "imsU-".unicodeScalars.contains(c) else {
                        return "invalid or unsupported Perl syntax (?\(flags)\(c)"
                    }
                    if c != "U" { flags.unicodeScalars.append(c) }
                    offset += 1
                }
                guard let end = peek(offset) else { return "missing closing )" }
                if written == 0 && end == ")" { return "invalid or unsupported Perl syntax (?)" }
                if flags.isEmpty || flags == "-" {
                    icuPattern += end == ":" ? "(?:" : "(?:)"
                } else {
                    icuPattern += "(?\(flags)\(end)"
                }
                index += offset + 1
                return nil
            }
        }
    }
}
