import MeshAPI
import XDSCache

/// Istio's host name rules.
enum HostNames {
    /// A short name resolves in the namespace of the resource that wrote it:
    /// `reviews` in `default` is `reviews.default.svc.cluster.local`.
    static func fullyQualified(_ host: String, namespace: String) -> String {
        host.contains(".") || host == "*" ? host : "\(host).\(namespace).svc.cluster.local"
    }

    /// Whether a (possibly wildcard) host of a rule covers a service host name.
    static func matches(_ pattern: String, _ hostname: String) -> Bool {
        if pattern == "*" || pattern == hostname { return true }
        guard pattern.hasPrefix("*") else { return false }
        return hostname.hasSuffix(pattern.dropFirst())
    }

    /// Whether `exportTo` (of a resource in `namespace`) makes it visible in `viewer`.
    static func isExported(_ exportTo: [String], from namespace: String, to viewer: String) -> Bool {
        exportTo.isEmpty || exportTo.contains("*") || exportTo.contains(viewer)
            || (exportTo.contains(".") && namespace == viewer)
    }
}
