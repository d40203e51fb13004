import EnvoyAPI
import Foundation
import MeshAPI
import SwiftProtobuf
import XDSCache

/// The TLS a gateway server terminates, and the credentials it needs. A server whose
/// credentials are not there (a missing or unusable Secret, no mesh certificate for
/// ISTIO_MUTUAL) gets no transport socket at all: the caller leaves its filter chain out, so its
/// connections are refused and it never serves plaintext or someone else's certificate.
///
/// `credentialName` NAME becomes Istio's SDS secrets `kubernetes://NAME` (certificate and key)
/// and, for MUTUAL and OPTIONAL_MUTUAL, `kubernetes://NAME-cacert` (the client CA, from the
/// Secret's own `ca.crt`/`cacert`, else from a Secret `NAME-cacert`). Secrets are looked up in
/// the gateway proxy's namespace, and only served to a proxy whose identity is proven.
struct GatewayTLS {
    typealias TransportSocket = Envoy_Config_Core_V3_TransportSocket
    typealias DownstreamTlsContext = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext

    static let sdsPrefix = "kubernetes://"
    static let caSuffix = "-cacert"

    let context: TranslationContext
    /// The proxy's namespace's Secrets, by name.
    private let secrets: [String: Secret]

    init(context: TranslationContext) {
        self.context = context
        let namespace = context.proxy.namespace
        secrets = Dictionary(
            context.config.secrets.filter { $0.namespace == namespace }.map { ($0.name, $0.spec) }, uniquingKeysWith: { a, _ in a })
    }

    /// The server's downstream TLS and the SDS secrets it needs (added to `resources`), or nil
    /// when it cannot serve TLS now.
    func transportSocket(for server: GatewayServer, alpn: [String], resources: inout ResourceSet) -> TransportSocket? {
        guard let tls = server.tls else { return nil }
        var context = DownstreamTlsContext()
        var common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        common.alpnProtocols = alpn
        if let params = Self.parameters(tls) { common.tlsParams = params }
        let mutual = tls.mode == .mutual || tls.mode == .optionalMutual || tls.mode == .istioMutual
        var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        validation.matchTypedSubjectAltNames = tls.subjectAltNames.map(Self.sanMatcher)

        if tls.mode == .istioMutual {
            // The gateway's own mesh certificate; clients must present one from the mesh CA.
            guard self.context.trustDomain != nil else { return nil }
            common.tlsCertificateSdsSecretConfigs = [MutualTLS.sdsSecret(ProxyCredentials.certificateSecret)]
            var combined = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CombinedCertificateValidationContext()
            combined.defaultValidationContext = validation
            combined.validationContextSdsSecretConfig = MutualTLS.sdsSecret(ProxyCredentials.rootSecret)
            common.combinedValidationContext = combined
        } else if let name = tls.credentialName {
            guard self.context.trustDomain != nil, let secret = secrets[name], secret.hasCertificate else { return nil }
            let certificateName = Self.sdsPrefix + name
            resources.add(.secret, certificateName, Self.certificateSecret(certificateName, secret))
            common.tlsCertificateSdsSecretConfigs = [MutualTLS.sdsSecret(certificateName)]
            if mutual {
                guard let ca = secret.caCertificatesPEM ?? secrets[name + Self.caSuffix]?.caCertificatesPEM else { return nil }
                let caName = Self.sdsPrefix + name + Self.caSuffix
                resources.add(.secret, caName, Self.caSecret(caName, ca))
                var combined = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CombinedCertificateValidationContext()
                combined.defaultValidationContext = validation
                combined.validationContextSdsSecretConfig = MutualTLS.sdsSecret(caName)
                common.combinedValidationContext = combined
            }
        } else if let certificate = tls.serverCertificate, let key = tls.privateKey {
            // Files on the gateway's host, as Istio's serverCertificate/privateKey.
            var pair = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
            pair.certificateChain = UpstreamTLS.file(certificate)
            pair.privateKey = UpstreamTLS.file(key)
            common.tlsCertificates = [pair]
            if mutual {
                guard let ca = tls.caCertificates else { return nil }
                validation.trustedCa = UpstreamTLS.file(ca)
                common.validationContext = validation
            }
        } else {
            return nil
        }
        context.commonTlsContext = common
        if tls.mode == .mutual || tls.mode == .istioMutual {
            context.requireClientCertificate = Google_Protobuf_BoolValue(true)
        }
        return MutualTLS.socket(context)
    }

    /// minProtocolVersion, maxProtocolVersion and cipherSuites, when any is set.
    static func parameters(_ tls: ServerTLSSettings) -> Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters? {
        guard tls.minProtocolVersion != nil || tls.maxProtocolVersion != nil || !tls.cipherSuites.isEmpty else { return nil }
        var params = Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters()
        func version(_ value: ServerTLSSettings.ProtocolVersion?) -> Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters.TlsProtocol {
            switch value {
            case .v1_0?: .tlsv10
            case .v1_1?: .tlsv11
            case .v1_2?: .tlsv12
            case .v1_3?: .tlsv13
            case .auto?, nil: .tlsAuto
            }
        }
        params.tlsMinimumProtocolVersion = version(tls.minProtocolVersion)
        params.tlsMaximumProtocolVersion = version(tls.maxProtocolVersion)
        params.cipherSuites = tls.cipherSuites
        return params
    }

    /// A SAN as Envoy matches it: a URI (SPIFFE ids), an IP address, else a DNS name.
    static func sanMatcher(_ san: String) -> Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher {
        var matcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
        matcher.sanType = san.contains("://") ? .uri : (san.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? .ipAddress : .dns)
        matcher.matcher.exact = san
        return matcher
    }

    static func certificateSecret(_ name: String, _ secret: Secret) -> Envoy_Extensions_TransportSockets_Tls_V3_Secret {
        var resource = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        resource.name = name
        var certificate = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
        certificate.certificateChain = .inline(secret.certificateChainPEM ?? "")
        certificate.privateKey = .inline(secret.privateKeyPEM ?? "")
        resource.tlsCertificate = certificate
        return resource
    }

    static func caSecret(_ name: String, _ pem: String) -> Envoy_Extensions_TransportSockets_Tls_V3_Secret {
        var resource = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        resource.name = name
        var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        validation.trustedCa = .inline(pem)
        resource.validationContext = validation
        return resource
    }
}
