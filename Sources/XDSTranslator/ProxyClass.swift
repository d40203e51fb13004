public import MeshAPI

/// Everything a proxy's outbound configuration depends on. Proxies of one class receive the
/// same outbound clusters, endpoints, listeners and routes, so the control plane translates
/// them once per class: two replicas of a workload share a class, and so do all the sidecars of
/// a namespace that match the same rules.
///
/// The contract: `ProxyTranslator.outbound(index, for: a, ...)` equals the same for `b`
/// whenever `ProxyClass(of: a)` equals `ProxyClass(of: b)` under the same index and trust domain.
public struct ProxyClass: Hashable, Sendable {
    public let kind: Proxy.Kind
    public let generator: Proxy.Generator
    public let interceptionMode: Proxy.InterceptionMode
    public let namespace: String
    /// The Sidecar resource that applies (its selection already depends on the labels).
    public let sidecar: ResourceKey?
    /// Whether (and in which trust domain) the proxy talks mesh mTLS.
    public let trustDomain: String?
    /// The proxy's labels, restricted to the keys some outbound rule selects on
    /// (`DestinationRule.workloadSelector`, VirtualService `sourceLabels`, Gateway `selector`):
    /// other labels cannot change what the proxy is sent.
    public let selectedLabels: [String: String]

    public init(of proxy: Proxy, in index: MeshIndex, trustDomain: String?) {
        kind = proxy.kind
        generator = proxy.generator
        interceptionMode = proxy.interceptionMode
        namespace = proxy.namespace
        let config = index.config
        sidecar = SidecarScope.select(from: config.sidecars, for: proxy, rootNamespace: config.rootNamespace)?.key
        self.trustDomain = trustDomain
        selectedLabels = proxy.labels.filter { index.outboundLabelKeys.contains($0.key) }
    }
}

extension MeshIndex {
    /// Label keys that outbound rules select proxies by.
    static func outboundLabelKeys(_ config: MeshConfig) -> Set<String> {
        var keys: Set<String> = []
        for rule in config.destinationRules {
            if let selector = rule.spec.workloadSelector { keys.formUnion(selector.labels.keys) }
        }
        // Which Gateways select a gateway proxy decides its listeners, routes and credentials.
        for gateway in config.gateways { keys.formUnion(gateway.spec.selector.keys) }
        for virtualService in config.virtualServices {
            for route in virtualService.spec.http {
                for match in route.match { keys.formUnion(match.sourceLabels.keys) }
            }
            for route in virtualService.spec.tcp {
                for match in route.match { keys.formUnion(match.sourceLabels.keys) }
            }
            for route in virtualService.spec.tls {
                for match in route.match { keys.formUnion(match.sourceLabels.keys) }
            }
        }
        return keys
    }
}
