/// Kubernetes label syntax (Istio's `labels.Instance.Validate`).
enum Labels {
    /// Every problem with a label map, in key order so output is stable.
    static func problems(_ labels: [String: String]) -> [String] {
        labels.keys.sorted().flatMap { key -> [String] in
            var found: [String] = []
            if let problem = keyProblem(key) { found.append(problem) }
            if let value = labels[key], !isValue(value) {
                found.append(
                    "invalid label value \"\(value)\" for \"\(key)\": at most 63 letters, digits, '-', '_' or '.', "
                        + "starting and ending with a letter or digit")
            }
            return found
        }
    }

    /// `[prefix/]name`: prefix a DNS subdomain, name a qualified name.
    static func keyProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let valid: Bool
        switch parts.count {
        case 1: valid = isQualifiedName(parts[0])
        case 2: valid = isSubdomain(parts[0]) && isQualifiedName(parts[1])
        default: valid = false
        }
        return valid ? nil : "invalid label key \"\(key)\": expected [prefix/]name, the name at most 63 letters, digits, '-', '_' or '.'"
    }

    /// Empty, or a qualified name.
    static func isValue(_ value: String) -> Bool {
        value.isEmpty || isQualifiedName(value)
    }

    static func isQualifiedName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        guard Names.isAlphanumeric(bytes.first!), Names.isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { Names.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    private static func isSubdomain(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && Names.kubernetesNameProblem(text) == nil
    }
}
