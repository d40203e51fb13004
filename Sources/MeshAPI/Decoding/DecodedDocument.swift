/// The spec of any supported kind, as decoded from one document.
enum AnySpec: Sendable, Equatable {
    case serviceEntry(ServiceEntry)
    case workloadEntry(WorkloadEntry)
    case workloadGroup(WorkloadGroup)
    case virtualService(VirtualService)
    case destinationRule(DestinationRule)
    case gateway(Gateway)
    case sidecar(Sidecar)
    case peerAuthentication(PeerAuthentication)
    case authorizationPolicy(AuthorizationPolicy)
    /// `fields`: the field path each part came from (`certificate`, `key`, `ca` → `data[tls.crt]`...).
    case secret(Secret, fields: [String: String])
}

/// One resource read from YAML, before validation.
struct DecodedDocument: Sendable {
    var key: ResourceKey
    var labels: [String: String]
    var annotations: [String: String]
    var spec: AnySpec
    var source: SourceLocation
}
