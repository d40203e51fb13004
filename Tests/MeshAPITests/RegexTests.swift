@testable import MeshAPI
import Testing

/// Envoy runs RE2; Istio validates with Go's regexp (RE2 syntax).
@Suite struct RegexTests {
    @Test(arguments: [
        "^/api/v[0-9]+/.*$", "(?i)foo", "(?P<name>a+)b", "(?<name>x)", "[[:alpha:]]+", "\\d{1,3}", "a{2,1000}",
        "\\pL+", "\\p{Greek}", "a*?b", "\\Q.*+\\E", "x|y", "[^]a]", "\\.", "(?s:.)", "(?U)a+", "\\x{41}\\x41",
        "[\\d\\-_]+", "\\Aabc\\z", "a+?", "(a|b)*c",
    ])
    func acceptsRE2(_ pattern: String) {
        #expect(RE2.problem(pattern) == nil, "\(RE2.problem(pattern) ?? "")")
    }

    @Test(arguments: [
        ("(?=foo)", "look-ahead"), ("(?!foo)", "look-ahead"), ("(?<=a)b", "look-behind"), ("(?<!a)b", "look-behind"),
        ("(a)\\1", "back-references"), ("a*+", "possessive"), ("a++", "possessive"), ("(?>a)", "atomic"),
        ("(?#c)", "comment"), ("a{1001}", "repeat count"), ("(", "invalid regular expression"),
        ("[a", "missing closing ]"), ("*a", "invalid regular expression"), ("a**", "nested repetition"),
        ("\\Z", "invalid escape"), ("(?P=name)", "back-references"), ("\\k<n>", "invalid escape"),
        ("(?x)a", "unsupported Perl syntax"), ("a{2}{3}", "nested repetition"),
    ])
    func rejectsWhatRE2Rejects(_ pattern: String, reason: String) {
        let problem = RE2.problem(pattern)
        #expect(problem?.contains(reason) == true, "\(pattern): \(problem ?? "accepted")")
    }

    @Test func rejectsVeryLongExpressions() {
        #expect(RE2.problem(String(repeating: "a", count: 1025))?.contains("too large") == true)
    }

    @Test func everyRegexFieldIsChecked() {
        let http = { (body: String) in
            virtualService("  hosts: [a]\n  http:\n  - \(body)\n    route: [{destination: {host: a}}]")
        }
        expectError(http("match: [{uri: {regex: '(?<=/api)x'}}]"), at: "spec.http[0].match[0].uri.regex", containing: "look-behind")
        expectError(http("match: [{queryParams: {q: {regex: 'a\\1'}}}]"), at: "spec.http[0].match[0].queryParams[q].regex", containing: "back-references")
        expectError(http("match: [{authority: {regex: ''}}]"), at: "spec.http[0].match[0].authority.regex", containing: "should not be empty")
        expectError(http("corsPolicy: {allowOrigins: [{regex: 'a++'}]}"), at: "spec.http[0].corsPolicy.allowOrigins[0].regex", containing: "possessive")
        expectError(http("rewrite: {uriRegexRewrite: {match: '(?=x)', rewrite: /}}"), at: "spec.http[0].rewrite.uriRegexRewrite.match", containing: "look-ahead")
        expectValid(http("match: [{uri: {regex: '^/(a|b)/[0-9]{2,4}$'}}]"))
    }
}
