import Yams

/// YAML 1.1 resolution of plain scalars (`80` is an int, `true` a bool, `~` null), with the
/// same rules as Yams' default resolver. Yams implements those with a regular expression per
/// rule per scalar, which dominated load time; the parser therefore runs with `.basic`
/// (everything a string) and the cursor classifies plain scalars here, without regexes.
enum PlainScalar {
    static func tag(of scalar: Node.Scalar, resolved: Tag.Name) -> Tag.Name {
        // An explicit tag (`!!int "80"`) wins; quoted and block scalars are strings.
        guard resolved == .str, scalar.style == .plain || scalar.style == .any else { return resolved }
        let text = scalar.string
        // Most scalars are names and hosts: their first character already rules out the rest.
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "~"), UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"),
            UInt8(ascii: "O"):
            break
        default:
            return .str
        }
        if isBool(text) { return .bool }
        if integer(text) != nil || isIntSyntax(text) { return .int }
        if double(text) != nil { return .float }
        if text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" { return .null }
        return .str
    }

    private static let boolWords: [String: Bool] = [
        "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true,
        "ON": true, "no": false, "No": false, "NO": false, "false": false, "False": false, "FALSE": false,
        "off": false, "Off": false, "OFF": false,
    ]

    static func isBool(_ text: String) -> Bool { boolWords[text] != nil }
    static func bool(_ text: String) -> Bool? { boolWords[text] }

    /// `[-+]?` then decimal, `0x` hex, `0b` binary or `0`/`0o` octal; underscores allowed. nil
    /// when not an integer or out of Int64's range. YAML 1.1's base 60 (`1:30`) is left out, as
    /// Kubernetes' Go parser reads such values as strings.
    static func integer(_ text: String) -> Int64? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCIIDigit else { return nil }
        let magnitude: Int64?
        if body.hasPrefix("0x") {
            magnitude = digits(body.dropFirst(2), radix: 16)
        } else if body.hasPrefix("0b") {
            magnitude = digits(body.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0o") {
            magnitude = digits(body.dropFirst(2), radix: 8)
        } else if body.count > 1 && first == "0" {
            magnitude = digits(body.dropFirst(), radix: 8)
        } else {
            magnitude = digits(body, radix: 10)
        }
        guard let magnitude else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Integer syntax whose value does not fit Int64 (still an int, just out of range).
    private static func isIntSyntax(_ text: String) -> Bool {
        let body = text.drop { $0 == "-" || $0 == "+" }
        return body.count > 18 && body.allSatisfy { $0.isASCIIDigit || $0 == "_" } && body.first != "_"
    }

    private static func digits(_ text: Substring, radix: Int) -> Int64? {
        let cleaned = text.filter { $0 != "_" }
        guard !cleaned.isEmpty else { return nil }
        return Int64(cleaned, radix: radix)
    }

    /// Decimal floats (`1.5`, `1e3`, `.5`, `1.`), `.inf` and `.nan` in their YAML spellings.
    static func double(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        var body = Substring(text)
        if let first = body.first, first == "-" || first == "+" { body = body.dropFirst() }
        guard let first = body.first, first.isASCIIDigit || first == "." else { return nil }
        let allowed = body.allSatisfy { $0.isASCIIDigit || "._eE+-".contains($0) }
        guard allowed, body.contains(where: \.isASCIIDigit), body.filter({ $0 == "." }).count <= 1 else { return nil }
        var cleaned = text.filter { $0 != "_" }
        if cleaned.hasSuffix(".") { cleaned += "0" }
        return Double(cleaned)
    }
}
