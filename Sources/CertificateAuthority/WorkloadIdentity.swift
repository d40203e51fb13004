/// Who a workload is in the mesh: a service account in a namespace of a trust domain, written as
/// the SPIFFE id `spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT` (Istio's format).
public struct WorkloadIdentity: Hashable, Sendable, CustomStringConvertible {
    public var trustDomain: String
    public var namespace: String
    public var serviceAccount: String

    public init(trustDomain: String = "cluster.local", namespace: String, serviceAccount: String) {
        self.trustDomain = trustDomain
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    public var spiffeID: String {
        "spiffe://\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)"
    }

    public var description: String { spiffeID }
}
