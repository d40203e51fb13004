/// IP address and CIDR syntax as Go's `net/netip` accepts it (no leading zeros in IPv4
/// fields, IPv6 with `::` and an optional trailing IPv4 part and `%zone`).
public enum IPAddress {
    public static func isValid(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    static func isIPv4(_ text: String) -> Bool {
        let fields = text.split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count == 4 else { return false }
        return fields.allSatisfy { field in
            guard !field.isEmpty, field.count <= 3, field.allSatisfy(\.isASCIIDigit) else { return false }
            if field.count > 1 && field.first == "0" { return false }
            return Int(field)! <= 255
        }
    }

    static func isIPv6(_ text: String, allowZone: Bool = true) -> Bool {
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") {
            guard allowZone, address.index(after: percent) != address.endIndex else { return false }
            address = address[..<percent]
        }
        guard address.contains(":") else { return false }
        let halves = address.splitting(by: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (index, half) in halves.enumerated() {
            guard !half.isEmpty else { continue }
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (partIndex, part) in parts.enumerated() {
                let isLast = index == halves.count - 1 && partIndex == parts.count - 1
                if isLast && part.contains(".") {
                    guard isIPv4(String(part)) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                    groups += 1
                }
            }
        }
        // `::` stands for at least one group of zeros.
        return halves.count == 2 ? groups < 8 : groups == 8
    }

    /// `ADDRESS/BITS`, as `netip.ParsePrefix` accepts it.
    static func isValidPrefix(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit) else { return false }
        if parts[1].count > 1 && parts[1].first == "0" { return false }
        let address = String(parts[0])
        if isIPv4(address) { return bits <= 32 }
        if isIPv6(address, allowZone: false) { return bits <= 128 }
        return false
    }

    /// Istio's `ValidateIPSubnet`: a CIDR block or a plain address; nil when valid.
    static func subnetProblem(_ text: String) -> String? {
        if text.contains("/") {
            return isValidPrefix(text) ? nil : "\"\(text)\" is not a valid CIDR block"
        }
        return isValid(text) ? nil : "\"\(text)\" is not a valid IP address"
    }
}

extension StringProtocol {
    /// Splits on a multi-character separator without Foundation.
    func splitting(by separator: String) -> [Substring] {
        var result: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            result.append(Substring(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(Substring(rest))
        return result
    }
}
