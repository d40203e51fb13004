import MeshAPI
import XDSCache

/// Istio's host name rules.
enum HostNames {
    /// A short name resolves in the namespace of the resource that wrote it:
    /// `reviews` in `default` is `reviews.default.svc.cluster.local`.
    static func fullyQualified(_ host: String, namespace: String) -> String {
        host.contains(".") || host == "*" ? host : "\(host).\(namespace).svc.cluster.local"
    }

    /// The shorter names a Kubernetes-style host `NAME.NAMESPACE.svc.cluster.local` is also
    /// dialled by: `NAME.NAMESPACE.svc` and `NAME.NAMESPACE` anywhere, and `NAME`, which
    /// resolves only inside NAMESPACE. Nil for other hosts.
    static func shortForms(_ hostname: String) -> (qualified: [String], name: String, namespace: String)? {
        let suffix = ".svc.cluster.local"
        guard hostname.hasSuffix(suffix) else { return nil }
        let short = String(hostname.dropLast(suffix.count))
        let parts = short.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        return ([short + ".svc", short], parts[0], parts[1])
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
