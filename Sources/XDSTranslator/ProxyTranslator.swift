public import MeshAPI
public import XDSCache
import EnvoyAPI
import SwiftProtobuf

/// Translates the mesh configuration into the xDS resources one proxy receives. Pure and
/// deterministic: the same config and proxy always give the same resources, byte for byte.
///
/// A proxy's snapshot is three layers, each shared by every proxy it applies to: its class's
/// outbound configuration (see ``ProxyClass``), its workload's inbound configuration, and its
/// identity's secrets.
public enum ProxyTranslator {
    public static func snapshot(_ config: MeshConfig, for proxy: Proxy, credentials: ProxyCredentials? = nil) -> Snapshot {
        snapshot(MeshIndex(config), for: proxy, credentials: credentials)
    }

    /// The same, for a configuration indexed once and translated for many proxies.
    public static func snapshot(_ index: MeshIndex, for proxy: Proxy, credentials: ProxyCredentials? = nil) -> Snapshot {
        let trustDomain = credentials?.trustDomain
        return compose(
            inbound: inbound(index, for: proxy, trustDomain: trustDomain),
            outbound: outbound(index, for: proxy, trustDomain: trustDomain), credentials: credentials)
    }

    /// A proxy's snapshot from its layers, translated here or taken from a cache: inbound
    /// resources win over outbound ones of the same name, secrets come last.
    public static func compose(inbound: Snapshot, outbound: Snapshot, credentials: ProxyCredentials?) -> Snapshot {
        Snapshot(layers: [inbound, outbound, credentials?.secrets ?? Snapshot()])
    }

    /// What the proxy sends traffic to: outbound clusters, endpoints, listeners and routes.
    /// Depends only on `ProxyClass(of: proxy, ...)`, so one translation serves the whole class.
    public static func outbound(_ index: MeshIndex, for proxy: Proxy, trustDomain: String?) -> Snapshot {
        let context = TranslationContext(index: index, proxy: proxy, trustDomain: trustDomain)
        if proxy.generator == .grpc { return ProxylessGRPC.snapshot(context) }
        var resources = ResourceSet()
        let scopes = EgressScope.scopes(for: context)

        var clustered: Set<String> = []
        for service in scopes.flatMap(\.services) where clustered.insert("\(service.namespace)/\(service.hostname)").inserted {
            OutboundClusters.add(service, context: context, to: &resources)
        }
        resources.add(.cluster, ClusterName.passthrough, OutboundClusters.passthrough)
        resources.add(.cluster, ClusterName.blackHole, OutboundClusters.blackHole)

        // A gateway (router) listens only where the Gateways that select it say (GatewayListeners).
        if proxy.kind == .router {
            GatewayListeners.add(context: context, to: &resources)
            return Snapshot(resources.resources)
        }
        for scope in scopes {
            scope.addListeners(context: context, to: &resources)
        }
        if proxy.interceptionMode != .none {
            let fallback = context.outboundTrafficPolicy == .allowAny ? ClusterName.passthrough : ClusterName.blackHole
            let listener = OutboundListeners.virtualOutbound(fallbackCluster: fallback)
            resources.add(.listener, listener.name, listener, references: [fallback])
        }
        return Snapshot(resources.resources)
    }

    /// What reaches the proxy's workload: inbound clusters, listeners and routes, in the mTLS
    /// mode PeerAuthentication gives each port, behind its authorization policies. Its
    /// resources win over outbound ones of the same name.
    public static func inbound(_ index: MeshIndex, for proxy: Proxy, trustDomain: String?) -> Snapshot {
        guard proxy.kind == .sidecar, proxy.generator == .envoy else { return Snapshot() }
        var resources = ResourceSet()
        InboundListeners.add(context: TranslationContext(index: index, proxy: proxy, trustDomain: trustDomain), to: &resources)
        return Snapshot(resources.resources)
    }

    /// What a proxy's inbound layer takes from the service registry: the ports it serves. With
    /// equal inputs and unchanged inbound policies (``MeshConfig/hasSameInboundPolicies(as:)``),
    /// a proxy's inbound layer is the same under two configurations, so it need not be translated again.
    public static func inboundInputs(_ index: MeshIndex, for proxy: Proxy) -> InboundInputs {
        guard proxy.kind == .sidecar, proxy.generator == .envoy else { return InboundInputs(ports: []) }
        return InboundInputs(ports: InboundPort.ports(for: TranslationContext(index: index, proxy: proxy)))
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

/// See ``ProxyTranslator/inboundInputs(_:for:)``.
public struct InboundInputs: Sendable, Equatable {
    let ports: [InboundPort]
}

extension MeshConfig {
    /// Whether the rules that shape inbound configuration besides the registry (Sidecars,
    /// PeerAuthentications, AuthorizationPolicies, the root namespace) are the same.
    public func hasSameInboundPolicies(as other: MeshConfig) -> Bool {
        rootNamespace == other.rootNamespace && sidecars == other.sidecars
            && peerAuthentications == other.peerAuthentications && authorizationPolicies == other.authorizationPolicies
    }
}
