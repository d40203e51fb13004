import MeshAPI
import XDSCache

/// Which Sidecar resource configures a proxy, and what its egress listeners import.
enum SidecarScope {
    /// Istio: a Sidecar in the proxy's namespace whose selector matches its labels, else the
    /// namespace's Sidecar without selector, else the root namespace's one.
    static func select(from sidecars: [Resource<Sidecar>], for proxy: Proxy, rootNamespace: String) -> Resource<Sidecar>? {
        let local = sidecars.filter { $0.namespace == proxy.namespace }
        if let selected = local.first(where: { $0.spec.workloadSelector?.matches(proxy.labels) == true }) {
            return selected
        }
        if let namespaceWide = local.first(where: { $0.spec.workloadSelector == nil }) { return namespaceWide }
        return sidecars.first { $0.namespace == rootNamespace && $0.spec.workloadSelector == nil }
    }

    /// Whether an egress `hosts` entry (`namespace/host`, `.` = the Sidecar's namespace,
    /// `*` = any, `~` or `~ns` = none) imports a service.
    static func imports(_ hosts: [String], sidecarNamespace: String, service: MeshService) -> Bool {
        hosts.contains { entry in
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            let (namespace, host) = parts.count == 2 ? (parts[0], parts[1]) : ("*", parts[0])
            guard !namespace.hasPrefix("~") else { return false }  // `~/*`, `~ns/...`: import nothing
            switch namespace {
            case "*": break
            case ".": guard service.namespace == sidecarNamespace else { return false }
            default: guard service.namespace == namespace else { return false }
            }
            return HostNames.matches(host, service.hostname)
        }
    }
}
