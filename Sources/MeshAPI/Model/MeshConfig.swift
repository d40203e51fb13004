/// A validated set of Istio resources, one array per kind, each sorted by key. Built by
/// `ConfigLoader`; holds only resources that passed validation.
public struct MeshConfig: Sendable, Equatable {
    public var serviceEntries: [Resource<ServiceEntry>]
    public var workloadEntries: [Resource<WorkloadEntry>]
    public var workloadGroups: [Resource<WorkloadGroup>]
    public var virtualServices: [Resource<VirtualService>]
    public var destinationRules: [Resource<DestinationRule>]
    public var gateways: [Resource<Gateway>]
    public var sidecars: [Resource<Sidecar>]
    public var peerAuthentications: [Resource<PeerAuthentication>]
    public var authorizationPolicies: [Resource<AuthorizationPolicy>]
    /// Kubernetes Secrets: gateway TLS credentials, served over SDS only to gateways.
    public var secrets: [Resource<Secret>]
    /// Istio's mesh-wide `rootNamespace`: a Sidecar, DestinationRule, PeerAuthentication or
    /// AuthorizationPolicy there applies to the whole mesh. A setting of the server, not a resource.
    public var rootNamespace = MeshConfig.defaultRootNamespace
    /// WorkloadEntries whose WorkloadGroup's readiness probe has not passed (yet, or any more):
    /// their endpoints are sent as UNHEALTHY. Not a resource: the loader leaves it empty and the
    /// server's prober fills it, so that translation stays a function of this value alone.
    public var unhealthyWorkloads: Set<ResourceKey> = []

    public static let defaultRootNamespace = "istio-system"

    public init() {
        self.init(serviceEntries: [])
    }

    /// Builds a config from resources in any order; each array is sorted by key.
    public init(
        serviceEntries: [Resource<ServiceEntry>] = [],
        workloadEntries: [Resource<WorkloadEntry>] = [],
        workloadGroups: [Resource<WorkloadGroup>] = [],
        virtualServices: [Resource<VirtualService>] = [],
        destinationRules: [Resource<DestinationRule>] = [],
        gateways: [Resource<Gateway>] = [],
        sidecars: [Resource<Sidecar>] = [],
        peerAuthentications: [Resource<PeerAuthentication>] = [],
        authorizationPolicies: [Resource<AuthorizationPolicy>] = [],
        secrets: [Resource<Secret>] = []
    ) {
        func sorted<S>(_ resources: [Resource<S>]) -> [Resource<S>] { resources.sorted { $0.key < $1.key } }
        self.serviceEntries = sorted(serviceEntries)
        self.workloadEntries = sorted(workloadEntries)
        self.workloadGroups = sorted(workloadGroups)
        self.virtualServices = sorted(virtualServices)
        self.destinationRules = sorted(destinationRules)
        self.gateways = sorted(gateways)
        self.sidecars = sorted(sidecars)
        self.peerAuthentications = sorted(peerAuthentications)
        self.authorizationPolicies = sorted(authorizationPolicies)
        self.secrets = sorted(secrets)
    }

    /// The keys of every resource in the config.
    public var keys: Set<ResourceKey> {
        var keys = Set<ResourceKey>()
        keys.formUnion(serviceEntries.map(\.key))
        keys.formUnion(workloadEntries.map(\.key))
        keys.formUnion(workloadGroups.map(\.key))
        keys.formUnion(virtualServices.map(\.key))
        keys.formUnion(destinationRules.map(\.key))
        keys.formUnion(gateways.map(\.key))
        keys.formUnion(sidecars.map(\.key))
        keys.formUnion(peerAuthentications.map(\.key))
        keys.formUnion(authorizationPolicies.map(\.key))
        keys.formUnion(secrets.map(\.key))
        return keys
    }
}
