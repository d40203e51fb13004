public import MeshAPI
public import XDSCache
import EnvoyAPI
import SwiftProtobuf

/// Translates the mesh configuration into the xDS resources one proxy receives. Pure and
/// deterministic: the same config and proxy always give the same resources, byte for byte.
public enum ProxyTranslator {
    public static func snapshot(_ config: MeshConfig, for proxy: Proxy, credentials: ProxyCredentials? = nil) -> Snapshot {
        snapshot(MeshIndex(config), for: proxy, credentials: credentials)
    }

    /// The same, for a configuration indexed once and translated for many proxies.
    public static func snapshot(_ index: MeshIndex, for proxy: Proxy, credentials: ProxyCredentials? = nil) -> Snapshot {
        let context = TranslationContext(index: index, proxy: proxy, credentials: credentials)
        if proxy.generator == .grpc { return ProxylessGRPC.snapshot(context) }
        var resources = ResourceSet()
        let scopes = EgressScope.scopes(for: context)

        var clustered: Set<String> = []
        for service in scopes.flatMap(\.services) where clustered.insert("\(service.namespace)/\(service.hostname)").inserted {
            OutboundClusters.add(service, context: context, to: &resources)
        }
        resources.add(.cluster, ClusterName.passthrough, OutboundClusters.passthrough)
        resources.add(.cluster, ClusterName.blackHole, OutboundClusters.blackHole)

        // A gateway (router) listens only where Gateway resources say, which Trellis does not
        // serve yet: like an istiod gateway without Gateway resources, it gets the clusters to
        // route into the mesh and no listeners.
        guard proxy.kind == .sidecar else {
            credentials?.add(to: &resources)
            return Snapshot(resources.resources)
        }
        InboundListeners.add(context: context, to: &resources)
        for scope in scopes {
            scope.addListeners(context: context, to: &resources)
        }
        if proxy.interceptionMode != .none {
            let fallback = context.outboundTrafficPolicy == .allowAny ? ClusterName.passthrough : ClusterName.blackHole
            let listener = OutboundListeners.virtualOutbound(fallbackCluster: fallback)
            resources.add(.listener, listener.name, listener, references: [fallback])
        }
        credentials?.add(to: &resources)
        return Snapshot(resources.resources)
    }

    /// Every cluster a route configuration sends traffic to (routes, weighted splits, mirrors).
    static func clusters(in config: Envoy_Config_Route_V3_RouteConfiguration) -> Set<String> {
        var names: Set<String> = []
        for host in config.virtualHosts {
            for route in host.routes {
                guard case .route(let action)? = route.action else { continue }
                switch action.clusterSpecifier {
                case .cluster(let name): names.insert(name)
                case .weightedClusters(let weighted): names.formUnion(weighted.clusters.map(\.name))
                default: break
                }
                names.formUnion(action.requestMirrorPolicies.map(\.cluster))
            }
        }
        return names
    }
}
