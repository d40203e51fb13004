import MeshAPI
import XDSCache

/// One proxy's view of the mesh: the services it may reach and the rules that apply to it.
struct TranslationContext: Sendable {

    let proxy: Proxy
    let index: MeshIndex
    /// The Sidecar resource that applies to this proxy, if any.
    let sidecar: Resource<Sidecar>?
    /// The trust domain of the proxy's workload certificate; nil when it has none, so no mTLS.
    let trustDomain: String?

    var config: MeshConfig { index.config }
    var registry: ServiceRegistry { index.registry }

    init(index: MeshIndex, proxy: Proxy, trustDomain: String? = nil) {
        self.proxy = proxy
        self.trustDomain = trustDomain
        self.index = index
        let config = index.config
        self.sidecar = SidecarScope.select(from: config.sidecars, for: proxy, rootNamespace: config.rootNamespace)
    }

    /// What the proxy answers for hosts no service declares.
    var outboundTrafficPolicy: Sidecar.OutboundTrafficPolicy.Mode {
        sidecar?.spec.outboundTrafficPolicy?.mode ?? .allowAny
    }

    /// Services whose exportTo lets the proxy's namespace see them.
    var visibleServices: [MeshService] {
        registry.services.filter {
            HostNames.isExported($0.exportTo, from: $0.namespace, to: proxy.namespace)
        }
    }

    /// The VirtualService (bound to the mesh) that covers a service host: the first in
    /// namespace/name order, where Istio takes the oldest (resources here have no creation time).
    func virtualService(for service: MeshService) -> Resource<VirtualService>? {
        let all = config.virtualServices
        return index.virtualServices.positions(covering: service.hostname).lazy.map { all[$0] }.first { resource in
            let spec = resource.spec
            return (spec.gateways.isEmpty || spec.gateways.contains("mesh"))
                && HostNames.isExported(spec.exportTo, from: resource.namespace, to: proxy.namespace)
        }
    }

    /// Routes a VirtualService defines for the service on that port, or nil for the default route.
    func virtualServiceRoutes(for service: MeshService, port: UInt32) -> [OutboundRoutes.Route]? {
        guard let virtualService = virtualService(for: service), !virtualService.spec.http.isEmpty else {
            return nil
        }
        return VirtualServiceRoutes(context: self, virtualService: virtualService, port: port).routes()
    }

    /// The cluster a route destination means: `outbound|PORT|SUBSET|HOST`, where a missing port
    /// is the service's only port, else the listener's.
    func clusterName(for destination: Destination, from namespace: String, listenerPort: UInt32) -> String {
        let host = HostNames.fullyQualified(destination.host, namespace: namespace)
        let service = registry.service(host, from: proxy.namespace)
        let port = destination.port ?? (service?.ports.count == 1 ? service!.ports[0].number : listenerPort)
        return ClusterName.outbound(host, port: port, subset: destination.subset ?? "")
    }
}
