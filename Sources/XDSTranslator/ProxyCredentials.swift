import EnvoyAPI
import SwiftProtobuf
public import XDSCache

/// A proxy's proven identity: its workload certificate and the mesh root, served over SDS as
/// Istio's secrets `default` and `ROOTCA`. A proxy without credentials (the plaintext
/// development port) gets no secrets and no mTLS.
public struct ProxyCredentials: Sendable, Equatable {
    public var trustDomain: String
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    public var rootCertificatePEM: String

    public init(trustDomain: String, certificateChainPEM: String, privateKeyPEM: String, rootCertificatePEM: String) {
        self.trustDomain = trustDomain
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.rootCertificatePEM = rootCertificatePEM
    }

    static let certificateSecret = "default"
    static let rootSecret = "ROOTCA"

    /// Istio's secrets `default` and `ROOTCA`: the identity layer of a proxy's snapshot.
    public var secrets: Snapshot {
        var resources = ResourceSet()
        add(to: &resources)
        return Snapshot(resources.resources)
    }

    func add(to resources: inout ResourceSet) {
        var certificate = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        certificate.name = Self.certificateSecret
        var tls = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
        tls.certificateChain = .inline(certificateChainPEM)
        tls.privateKey = .inline(privateKeyPEM)
        certificate.tlsCertificate = tls
        resources.add(.secret, certificate.name, certificate)

        var root = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        root.name = Self.rootSecret
        var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        validation.trustedCa = .inline(rootCertificatePEM)
        root.validationContext = validation
        resources.add(.secret, root.name, root)
    }

    static func spiffeID(trustDomain: String, namespace: String, serviceAccount: String) -> String {
        "spiffe://\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)"
    }
}

extension Envoy_Config_Core_V3_DataSource {
    static func inline(_ text: String) -> Self {
        var source = Self()
        source.inlineString = text
        return source
    }
}
