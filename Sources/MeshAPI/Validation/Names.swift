/// DNS and Kubernetes name rules as Istio's validation applies them. Functions named
/// `...Problem` return nil for a valid name, else the reason.
enum Names {
    /// An RFC 1123 label as Istio checks it: letters (either case), digits, inner dashes, ≤ 63.
    static func isDNS1123Label(_ label: String) -> Bool {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// `*`, or a label optionally preceded by `*` or `*-` (Istio's `IsWildcardDNS1123Label`).
    static func isWildcardDNS1123Label(_ label: String) -> Bool {
        guard label.utf8.count <= 63 else { return false }
        if label == "*" { return true }
        if label.hasPrefix("*-") { return isDNS1123Label(String(label.dropFirst(2))) }
        if label.hasPrefix("*") { return isDNS1123Label(String(label.dropFirst())) }
        return isDNS1123Label(label)
    }

    /// Istio's `ValidateDNS1123Labels`: every label valid, the last may be empty (`istio.io.`),
    /// and the top-level domain not all digits.
    static func dnsLabelsProblem(_ domain: String) -> String? {
        let parts = domain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let tld = parts.last, !tld.isEmpty, tld.allSatisfy(\.isASCIIDigit) {
            return "domain name \"\(domain)\" invalid (top level domain \"\(tld)\" cannot be all-numeric)"
        }
        for (index, label) in parts.enumerated() {
            if index == parts.count - 1 && label.isEmpty && index > 0 { return nil }
            if !isDNS1123Label(label) { return "domain name \"\(domain)\" invalid (label \"\(label)\" invalid)" }
        }
        return nil
    }

    private static func lengthProblem(_ domain: String) -> String? {
        if domain.isEmpty { return "empty domain name not allowed" }
        if domain.utf8.count > 255 { return "domain name \"\(domain)\" too long (max 255)" }
        return nil
    }

    /// Istio's `ValidateFQDN`: a host name without wildcards (a single label is fine).
    static func fqdnProblem(_ domain: String) -> String? {
        lengthProblem(domain) ?? dnsLabelsProblem(domain)
    }

    /// Istio's `ValidateWildcardDomain`: like an FQDN, but the first label may be `*`, `*x` or `*-x`.
    static func wildcardDomainProblem(_ domain: String) -> String? {
        if let problem = lengthProblem(domain) { return problem }
        let parts = domain.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard isWildcardDNS1123Label(parts[0]) else {
            return "domain name \"\(domain)\" invalid (label \"\(parts[0])\" invalid)"
        }
        return parts.count > 1 ? dnsLabelsProblem(parts[1]) : nil
    }

    /// Wildcards other than a whole first label (`*foo.com`, `foo.*.com`), which Gateway and
    /// Sidecar hosts reject.
    static func isPartialWildcard(_ host: String) -> Bool {
        guard host.contains("*") else { return false }
        if host == "*" { return false }
        return !(host.hasPrefix("*.") && !host.dropFirst().contains("*"))
    }

    /// A Kubernetes object name: a lower-case RFC 1123 subdomain of at most 253 characters.
    static func kubernetesNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a name must not be empty" }
        if name.utf8.count > 253 { return "a name must be no more than 253 characters" }
        let valid = name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            isDNS1123Label(String($0)) && !$0.contains(where: \.isUppercase)
        }
        return valid ? nil : "a name must be a lower-case RFC 1123 subdomain (letters, digits, '-' and '.')"
    }

    /// A Kubernetes namespace: a lower-case RFC 1123 label.
    static func isNamespace(_ name: String) -> Bool {
        isDNS1123Label(name) && !name.contains(where: \.isUppercase)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }
}
