import Crypto
import Foundation
import MeshAPI
import SwiftASN1
import Testing
import X509

/// Kubernetes Secrets as gateway credentials: both forms Istio reads, and every way their
/// material can be wrong, each a clear diagnostic that never quotes the material. The
/// certificates are made here, at test time: no private key is committed.
@Suite struct SecretTests {
    /// A self-signed ECDSA P-256 certificate and its key, valid from `from` to `until`.
    struct Material {
        var certificatePEM: String
        var keyPEM: String

        init(_ name: String = "gw.example.com", from: Date = Date() - 3600, until: Date = Date() + 86_400) throws {
            let key = P256.Signing.PrivateKey()
            let subject = try DistinguishedName { CommonName(name) }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: from, notValidAfter: until, issuer: subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions {},
                issuerPrivateKey: .init(key))
            certificatePEM = try certificate.serializeAsPEM().pemString
            keyPEM = key.pemRepresentation
        }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// A Secret with `data` entries (base64-encoded here).
    static func secret(_ data: [(String, String)], name: String = "gw-cert", type: String = "kubernetes.io/tls") -> String {
        var yaml = """
            apiVersion: v1
            kind: Secret
            metadata:
              name: \(name)
              namespace: istio-system
            type: \(type)
            data:

            """
        for (key, value) in data { yaml += "  \(key): \(base64(value))\n" }
        return yaml
    }

    @Test func aTLSSecretLoadsWithItsCertificateKeyAndCA() throws {
        let material = try Material()
        let ca = try Material("ca")
        let result = load(Self.secret([("tls.crt", material.certificatePEM), ("tls.key", material.keyPEM), ("ca.crt", ca.certificatePEM)]))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let secret = try #require(result.config.secrets.first)
        #expect(secret.key == ResourceKey(kind: .secret, namespace: "istio-system", name: "gw-cert"))
        #expect(secret.spec.certificateChainPEM == material.certificatePEM)
        #expect(secret.spec.privateKeyPEM == material.keyPEM)
        #expect(secret.spec.caCertificatesPEM == ca.certificatePEM)
        // Printing it (logs, dumps) never shows the key.
        for text in ["\(secret.spec)", String(reflecting: secret.spec), "\(secret)"] {
            #expect(!text.contains("PRIVATE KEY") && !text.contains(String(material.keyPEM.dropFirst(30).prefix(20))), "\(text)")
        }
    }

    @Test func theGenericFormAndStringDataAreRead() throws {
        let material = try Material()
        let indented = { (text: String) in text.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n") }
        let yaml = """
            apiVersion: v1
            kind: Secret
            metadata: {name: generic, namespace: istio-system}
            stringData:
              cert: |
            \(indented(material.certificatePEM))
              key: |
            \(indented(material.keyPEM))
            """
        let result = load(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.config.secrets.first?.spec.hasCertificate == true)
    }

    @Test func notPEMIsAnErrorNamingTheField() throws {
        let material = try Material()
        let result = load(Self.secret([("tls.crt", "hello, not a certificate"), ("tls.key", material.keyPEM)]))
        let error = try #require(result.errors(at: "data[tls.crt]").first)
        #expect(error.message.contains("not valid PEM"))
        #expect(error.description.hasPrefix("test.yaml:8: Secret istio-system/gw-cert: data[tls.crt]: "), "\(error)")
        #expect(result.config.secrets.isEmpty)
    }

    @Test func aKeyThatIsNotAKeyIsAnErrorThatDoesNotQuoteIt() throws {
        let material = try Material()
        let junk = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n"
        let result = load(Self.secret([("tls.crt", material.certificatePEM), ("tls.key", junk)]))
        let error = try #require(result.errors(at: "data[tls.key]").first)
        #expect(error.message.contains("not a valid PEM private key"))
        #expect(!result.diagnostics.map(\.description).joined().contains("c2VjcmV0"))
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsAnError() throws {
        let material = try Material()
        let other = try Material("other")
        let result = load(Self.secret([("tls.crt", material.certificatePEM), ("tls.key", other.keyPEM)]))
        #expect(result.errors(at: "data[tls.key]").contains { $0.message.contains("does not match the certificate") }, "\(result.errorText)")
        #expect(result.config.secrets.isEmpty)
    }

    @Test func anExpiredCertificateIsAnError() throws {
        let material = try Material(from: Date() - 7200, until: Date() - 3600)
        let result = load(Self.secret([("tls.crt", material.certificatePEM), ("tls.key", material.keyPEM)]))
        #expect(result.errors(at: "data[tls.crt]").contains { $0.message.contains("expired at") }, "\(result.errorText)")
    }

    @Test func badBase64AndAMissingKeyAreErrors() throws {
        let yaml = """
            apiVersion: v1
            kind: Secret
            metadata: {name: bad, namespace: istio-system}
            data:
              tls.crt: "%%% not base64 %%%"
            """
        let result = load(yaml)
        #expect(result.errors(at: "data[tls.crt]").contains { $0.message.contains("not valid base64") }, "\(result.errorText)")
        #expect(!result.errorText.contains("%%%"))
        let material = try Material()
        let keyless = load(Self.secret([("tls.crt", material.certificatePEM)]))
        #expect(keyless.errors(at: "data[tls.key]").contains { $0.message.contains("without its private key") }, "\(keyless.errorText)")
    }

    @Test func onlyCoreV1IsASecret() {
        let result = load("apiVersion: v2\nkind: Secret\nmetadata: {name: x}\n")
        #expect(result.errors(at: "apiVersion").contains { $0.message.contains("expected v1") }, "\(result.errorText)")
    }

    // MARK: Gateway → Secret, VirtualService → Gateway

    static func gateway(_ tls: String, name: String = "gw", port: Int = 443, hosts: String = "[a.example.com]", extraServer: String = "") -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: \(name), namespace: istio-system}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: \(port), name: https-\(port), protocol: HTTPS}
            hosts: \(hosts)
            tls: \(tls)
        \(extraServer)
        """
    }

    @Test func aCredentialNameWithoutASecretIsAWarningAndTheGatewayIsServed() throws {
        let result = load(Self.gateway("{mode: SIMPLE, credentialName: missing-cert}"))
        #expect(!result.hasErrors, "\(result.errorText)")
        let warning = try #require(result.diagnostics.first { $0.field == "spec.servers[0].tls.credentialName" })
        #expect(warning.severity == .warning)
        #expect(warning.message.contains("Secret istio-system/missing-cert not found"))
        #expect(warning.description.hasPrefix("test.yaml:9: warning: Gateway istio-system/gw: spec.servers[0].tls.credentialName"), "\(warning)")
        #expect(result.config.gateways.count == 1)
    }

    @Test func aCredentialNameToABadSecretIsAWarningOnTheGatewayToo() throws {
        let material = try Material()
        let other = try Material("other")
        let yaml = Self.gateway("{mode: SIMPLE, credentialName: gw-cert}") + "\n---\n"
            + Self.secret([("tls.crt", material.certificatePEM), ("tls.key", other.keyPEM)])
        let result = load(yaml)
        #expect(result.rejected == [ResourceKey(kind: .secret, namespace: "istio-system", name: "gw-cert")])
        #expect(result.diagnostics.contains { $0.severity == .warning && $0.message.contains("Secret istio-system/gw-cert is invalid") })
        #expect(result.config.gateways.count == 1)
    }

    @Test func mutualWithoutACAIsAWarning() throws {
        let material = try Material()
        let yaml = Self.gateway("{mode: MUTUAL, credentialName: gw-cert}") + "\n---\n"
            + Self.secret([("tls.crt", material.certificatePEM), ("tls.key", material.keyPEM)])
        let result = load(yaml)
        #expect(result.diagnostics.contains { $0.severity == .warning && $0.message.contains("needs a client CA") }, "\(result.diagnostics)")
        let withCA = load(yaml + "\n---\n" + Self.secret([("ca.crt", material.certificatePEM)], name: "gw-cert-cacert"))
        #expect(withCA.diagnostics.isEmpty, "\(withCA.diagnostics)")
    }

    @Test func aTLSServerWithoutCredentialsIsAnError() {
        expectError(Self.gateway("{mode: SIMPLE}"), at: "spec.servers[0].tls.serverCertificate", containing: "SIMPLE TLS requires a server certificate")
        expectError(Self.gateway("{mode: MUTUAL}"), at: "spec.servers[0].tls.caCertificates", containing: "MUTUAL TLS requires a client CA bundle")
    }

    @Test func anUnknownProtocolIsAnError() {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: istio-system}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 80, name: http, protocol: HTTPX}
                hosts: ["*"]
            """
        expectError(yaml, at: "spec.servers[0].port.protocol", containing: "unrecognized protocol")
    }

    @Test func theSameHostOnTheSamePortTwiceIsAWarning() throws {
        let second = """
              - port: {number: 443, name: https-other, protocol: HTTPS}
                hosts: [istio-system/a.example.com]
                tls: {mode: PASSTHROUGH}
            """
        let result = load(Self.gateway("{mode: PASSTHROUGH}", extraServer: second))
        #expect(!result.hasErrors, "\(result.errorText)")
        let warning = try #require(result.diagnostics.first { $0.field == "spec.servers[1].hosts[0]" })
        #expect(warning.severity == .warning && warning.message.contains("already served by Gateway istio-system/gw spec.servers[0]"), "\(warning)")
    }

    @Test func aVirtualServiceBoundToAMissingGatewayIsAWarningAndServed() throws {
        let yaml = Self.gateway("{mode: PASSTHROUGH}") + "\n---\n" + virtualService(
            """
              hosts: [a.example.com]
              gateways: [istio-system/gw, nowhere, mesh]
              http:
              - route:
                - destination: {host: a.example.com}
            """, namespace: "apps")
        let result = load(yaml)
        #expect(!result.hasErrors, "\(result.errorText)")
        let warnings = result.diagnostics.filter { $0.severity == .warning && $0.message.contains("Gateway") }
        #expect(warnings.map(\.field) == ["spec.gateways[1]"], "\(warnings)")
        #expect(warnings.first?.message.contains("Gateway apps/nowhere not found") == true)
        #expect(result.config.virtualServices.count == 1)
    }
}
