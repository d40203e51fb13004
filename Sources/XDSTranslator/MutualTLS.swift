import EnvoyAPI
import SwiftProtobuf

/// Istio's mesh mTLS on the wire: both sides present the SDS secret `default` and verify the
/// peer against `ROOTCA`; clients also check the server's SPIFFE id.
enum MutualTLS {
    typealias TransportSocket = Envoy_Config_Core_V3_TransportSocket

    /// Istio's ALPN for mesh mTLS, which also tells a PERMISSIVE server that a client speaks it.
    static let alpn = ["istio-peer-exchange", "istio"]

    static func commonContext(alpn: [String]) -> Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext {
        var common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        common.tlsCertificateSdsSecretConfigs = [sdsSecret(ProxyCredentials.certificateSecret)]
        var combined = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CombinedCertificateValidationContext()
        combined.defaultValidationContext = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        combined.validationContextSdsSecretConfig = sdsSecret(ProxyCredentials.rootSecret)
        common.combinedValidationContext = combined
        common.alpnProtocols = alpn
        return common
    }

    /// Upstream side (ISTIO_MUTUAL): accept only servers with one of `subjectAltNames`.
    static func upstream(sni: String, subjectAltNames: [String]) -> TransportSocket {
        var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        var common = commonContext(alpn: alpn)
        common.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames = subjectAltNames.map { san in
            var matcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
            matcher.sanType = .uri
            matcher.matcher.exact = san
            return matcher
        }
        context.commonTlsContext = common
        context.sni = sni
        return socket(context)
    }

    /// Downstream side: require a client certificate from the mesh CA.
    static func downstream() -> TransportSocket {
        var context = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext()
        context.commonTlsContext = commonContext(alpn: ["h2", "http/1.1"])
        context.requireClientCertificate = Google_Protobuf_BoolValue(true)
        return socket(context)
    }

    static func socket<M: SwiftProtobuf.Message>(_ context: M) -> TransportSocket {
        var socket = TransportSocket()
        socket.name = "envoy.transport_sockets.tls"
        socket.typedConfig = packed(context)
        return socket
    }

    static func sdsSecret(_ name: String) -> Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig {
        var config = Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig()
        config.name = name
        config.sdsConfig = .aggregated
        return config
    }
}
