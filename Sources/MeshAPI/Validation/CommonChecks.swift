/// Checks several kinds share (pkg/config/validation/validation.go). Each returns nil when the
/// value is valid, else a message.
enum CommonChecks {
    static func portProblem(_ port: UInt32) -> String? {
        (1...65535).contains(port) ? nil : "Invalid value: \(port): port must be between 1-65535"
    }

    static func portNameProblem(_ name: String) -> String? {
        Names.isDNS1123Label(name) ? nil : "invalid port name \"\(name)\": must be an RFC 1123 label"
    }

    /// Istio's `ValidateUnixAddress`, for the part after `unix://`.
    static func unixAddressProblem(_ path: String) -> String? {
        if path.isEmpty { return "unix address must not be empty" }
        if path.hasPrefix("@") { return nil }
        if !path.hasPrefix("/") { return "UDS must be an absolute path or abstract socket" }
        if path.hasSuffix("/") { return "UDS may not be a dir" }
        return nil
    }

    static func ipAddressProblem(_ text: String) -> String? {
        IPAddress.isValid(text) ? nil : "\"\(text)\" is not a valid IP address"
    }

    /// `labels` / `matchLabels` of a selector: no wildcards, no empty keys, valid label syntax.
    static func checkSelector(_ labels: [String: String], at path: String, _ report: DocumentContext) {
        for key in labels.keys.sorted() {
            let value = labels[key]!
            let entry = FieldPath.entry(path, key)
            if key.isEmpty { report.error(entry, "empty key is not supported in selector") }
            if key.contains("*") || value.contains("*") {
                report.error(entry, "wildcard is not supported in selector: \"\(key)=\(value)\"")
            }
        }
        for problem in Labels.problems(labels.filter { !$0.key.contains("*") && !$0.value.contains("*") }) {
            report.error(path, problem)
        }
    }

    static func checkLabels(_ labels: [String: String], at path: String, _ report: DocumentContext) {
        for problem in Labels.problems(labels) { report.error(path, problem) }
    }

    /// Istio's `validateExportTo`: `.`, `*`, `~` (ServiceEntry only) or namespaces, no duplicates,
    /// `*` alone.
    static func checkExportTo(_ exportTo: [String], namespace: String, isServiceEntry: Bool, at path: String, _ report: DocumentContext) {
        var seen: Set<String> = []
        for (index, entry) in exportTo.enumerated() {
            let elementPath = FieldPath.element(path, index)
            let key = entry == "." ? namespace : entry
            if seen.contains(key) {
                report.error(
                    elementPath,
                    key != entry
                        ? "duplicate entries in exportTo: . and current namespace \(namespace)"
                        : "duplicate entries in exportTo for entry \(entry)")
                continue
            }
            if entry == "~" && !isServiceEntry {
                report.error(elementPath, "exportTo ~ (no one) is only allowed for ServiceEntry")
            } else if entry != "*" && entry != "~" && !Names.isNamespace(key) {
                report.error(elementPath, "invalid exportTo value \"\(entry)\": only . or * or a namespace is allowed")
            }
            seen.insert(key)
        }
        if seen.contains("*") && exportTo.count > 1 {
            report.error(path, "cannot have both public (*) and non-public exportTo values for a resource")
        }
        if seen.contains("~") && exportTo.count > 1 {
            report.error(path, "cannot export service entry to no one (~) and someone")
        }
    }

    /// Istio's `validateGatewayNames`: `namespace/name`, or a legacy name (`mesh`, `name`,
    /// `name.namespace...`).
    static func checkGatewayNames(_ names: [String], at path: String, _ report: DocumentContext) {
        for (index, name) in names.enumerated() {
            let elementPath = FieldPath.element(path, index)
            let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 {
                if parts[0].isEmpty || parts[1].isEmpty {
                    report.error(elementPath, "config namespace and gateway name cannot be empty")
                } else if !Names.isDNS1123Label(parts[0]) {
                    report.error(elementPath, "invalid value for namespace: \"\(parts[0])\"")
                } else if !Names.isDNS1123Label(parts[1]) {
                    report.error(elementPath, "invalid value for gateway name: \"\(parts[1])\"")
                }
                continue
            }
            if let problem = Names.fqdnProblem(name) {
                report.error(elementPath, problem)
            } else if name.contains(".") {
                let labels = name.split(separator: ".")
                report.warning(
                    elementPath,
                    "using legacy gatewayName format \"\(name)\"; prefer the <namespace>/<name> format: \"\(labels[1])/\(labels[0])\"")
            }
        }
    }

    /// Istio's `validatePercentage`: 0, or within [0.0001, 100].
    static func percentageProblem(_ value: Double) -> String? {
        if value < 0 || value > 100 || (value > 0 && value < 0.0001) {
            return "percentage \(value) is neither 0.0, nor in range [0.0001, 100.0]"
        }
        return nil
    }

    static func percentProblem(_ value: Int32) -> String? {
        (0...100).contains(value) ? nil : "percentage \(value) is not in range 0..100"
    }
}
