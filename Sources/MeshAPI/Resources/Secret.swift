/// A Kubernetes `Secret` (`apiVersion: v1`) holding a gateway's TLS credential, in either form
/// Istio reads (pilot/pkg/credentials/kube): `kubernetes.io/tls` (`tls.crt`, `tls.key`,
/// optional `ca.crt`) or the generic one (`cert`, `key`, `cacert`). A Gateway server names it
/// in `tls.credentialName`; a Secret `NAME-cacert` may hold the client CA of `NAME` instead.
///
/// Key material never leaves this value in text: `description`, `debugDescription` and the
/// reflection mirror (what `print`, `dump` and string interpolation use) show only which parts
/// are present, never their contents.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `type`, e.g. `kubernetes.io/tls` or `Opaque` (the Kubernetes default).
    public var type: String
    /// The PEM certificate chain, leaf first.
    public var certificateChainPEM: String?
    /// The PEM private key of the leaf.
    public var privateKeyPEM: String?
    /// PEM certificates that client certificates must chain to (MUTUAL servers).
    public var caCertificatesPEM: String?

    public init(type: String = "Opaque", certificateChainPEM: String? = nil, privateKeyPEM: String? = nil, caCertificatesPEM: String? = nil) {
        self.type = type
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.caCertificatesPEM = caCertificatesPEM
    }

    /// Whether it holds a serving credential (certificate and key).
    public var hasCertificate: Bool { certificateChainPEM != nil && privateKeyPEM != nil }

    public var description: String {
        let parts = [
            certificateChainPEM.map { _ in "certificate" }, privateKeyPEM.map { _ in "key (redacted)" },
            caCertificatesPEM.map { _ in "ca" },
        ].compactMap { $0 }
        return "Secret(type: \(type), holds: [\(parts.joined(separator: ", "))])"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["redacted": description], displayStyle: .struct)
    }
}
