/// Istio's short-name resolution (`ResolveShortnameToFQDN`): a name without a dot is a
/// Kubernetes service in `namespace` (`reviews` → `reviews.default.svc.cluster.local`);
/// `*`, IP addresses and names with a dot are already complete.
public func fqdn(_ host: String, namespace: String) -> String {
    if host.isEmpty || host == "*" || host.contains(".") || IPAddress.isValid(host) { return host }
    return "\(host).\(namespace).svc.cluster.local"
}

/// Host names as Istio compares them (`host.Name`): a leading `*` matches any prefix.
enum HostName {
    static func isWildcard(_ name: String) -> Bool { name.hasPrefix("*") }

    /// True when some name could match both patterns (Istio's `Matches`).
    static func overlaps(_ a: String, _ b: String) -> Bool {
        switch (isWildcard(a), isWildcard(b)) {
        case (true, true):
            let (aSuffix, bSuffix) = (a.dropFirst(), b.dropFirst())
            return a.count < b.count ? bSuffix.hasSuffix(aSuffix) : aSuffix.hasSuffix(bSuffix)
        case (true, false): return b.hasSuffix(a.dropFirst())
        case (false, true): return a.hasSuffix(b.dropFirst())
        case (false, false): return a == b
        }
    }

    /// True when every name `a` matches is matched by `b` (Istio's `SubsetOf`).
    static func isSubset(_ a: String, of b: String) -> Bool {
        switch (isWildcard(a), isWildcard(b)) {
        case (true, true): return a.count >= b.count && a.dropFirst().hasSuffix(b.dropFirst())
        case (true, false): return false
        case (false, true): return a.hasSuffix(b.dropFirst())
        case (false, false): return a == b
        }
    }
}
