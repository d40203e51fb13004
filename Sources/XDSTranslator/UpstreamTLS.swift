import EnvoyAPI
import MeshAPI
import SwiftProtobuf

/// TLS a sidecar originates for DestinationRule `tls` SIMPLE and MUTUAL (Istio's
/// constructUpstreamTLS). Certificates are files on the proxy's host: Istio's agent reads them
/// and serves them over SDS; Trellis has no agent, so Envoy reads the files itself.
enum UpstreamTLS {
    typealias Cluster = Envoy_Config_Cluster_V3_Cluster
    typealias SubjectAltNameMatcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher

    /// What Istio verifies an upstream against when `caCertificates` is left out (its agent's
    /// "system" root, VERIFY_CERTIFICATE_AT_CLIENT, on by default since Istio 1.20): the
    /// operating system's CA bundle, at Debian's path.
    static let systemCABundle = "/etc/ssl/certs/ca-certificates.crt"

    /// `serviceSubjectAltNames` stand in when the rule names none, as Istio does for
    /// ServiceEntry hosts (the entry's `subjectAltNames` and its workloads' identities).
    static func apply(_ tls: ClientTLSSettings, serviceSubjectAltNames: [String], to cluster: inout Cluster) {
        guard tls.mode == .simple || tls.mode == .mutual else { return }
        let verify = tls.insecureSkipVerify != true
        var common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        var parameters = Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters()
        parameters.tlsMinimumProtocolVersion = .tlsv12
        parameters.tlsMaximumProtocolVersion = .tlsv13
        common.tlsParams = parameters
        if tls.mode == .mutual, let certificate = tls.clientCertificate, let key = tls.privateKey {
            var pair = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
            pair.certificateChain = file(certificate)
            pair.privateKey = file(key)
            common.tlsCertificates = [pair]
        }
        if verify {
            var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
            validation.trustedCa = file(tls.caCertificates ?? systemCABundle)
            let names = tls.subjectAltNames.isEmpty ? serviceSubjectAltNames : tls.subjectAltNames
            validation.matchTypedSubjectAltNames = names.map(subjectAltNameMatcher)
            common.validationContext = validation
        }
        if HTTPProtocolOptions.isHTTP2(cluster) { common.alpnProtocols = ["h2"] }

        var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        context.commonTlsContext = common
        if let sni = tls.sni { context.sni = sni }
        cluster.transportSocket = MutualTLS.socket(context)
        applyAutoSNI(tls, verify: verify, to: &cluster)
    }

    /// Istio's setAutoSniAndAutoSanValidation: without `sni`, an HTTP request names the server
    /// by its Host header, and without `subjectAltNames` the certificate must be for that name.
    /// (A TCP proxy has no Host header: it sends no SNI, as in Istio.)
    static func applyAutoSNI(_ tls: ClientTLSSettings, verify: Bool, to cluster: inout Cluster) {
        guard tls.sni == nil else { return }
        var options = HTTPProtocolOptions.of(cluster) ?? HTTPProtocolOptions.Options()
        if options.upstreamProtocolOptions == nil {
            // Envoy requires a protocol; a cluster that named none speaks HTTP/1.1.
            var explicit = HTTPProtocolOptions.Options.ExplicitHttpConfig()
            explicit.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
            options.explicitHTTPConfig = explicit
        }
        options.upstreamHTTPProtocolOptions.autoSni = true
        options.upstreamHTTPProtocolOptions.autoSanValidation = verify && tls.subjectAltNames.isEmpty
        cluster.typedExtensionProtocolOptions[HTTPProtocolOptions.key] = packed(options)
    }

    /// Istio matches these names against every kind of SAN; a name's shape says which kind it
    /// can be, so each gets the one typed matcher that can match it.
    static func subjectAltNameMatcher(_ name: String) -> SubjectAltNameMatcher {
        var matcher = SubjectAltNameMatcher()
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        if name.contains("://") {
            matcher.sanType = .uri
        } else if name.contains(":") || (octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }) {
            // No DNS name has a colon or four all-numeric labels: an IPv6 or IPv4 address.
            matcher.sanType = .ipAddress
        } else if name.contains("@") {
            matcher.sanType = .email
        } else {
            matcher.sanType = .dns
        }
        matcher.matcher.exact = name
        return matcher
    }

    static func file(_ path: String) -> Envoy_Config_Core_V3_DataSource {
        var source = Envoy_Config_Core_V3_DataSource()
        source.filename = path
        return source
    }
}
