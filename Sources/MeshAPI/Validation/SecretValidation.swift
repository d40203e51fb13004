import Foundation
import SwiftASN1
import X509

/// Checks a Secret's TLS material the way a gateway would use it: the certificate chain and
/// CA bundle are PEM certificates, the private key is a PEM key (PKCS#8, SEC1 or PKCS#1) that
/// belongs to the leaf certificate, and the leaf is valid now. Messages describe the problem
/// and never quote the material, nor the underlying parser's error (which might).
enum SecretValidation {
    static func validate(_ secret: Secret, fields: [String: String], _ report: DocumentContext, now: Date = Date()) {
        let certificatePath = fields["certificate"] ?? "data[tls.crt]"
        let keyPath = fields["key"] ?? "data[tls.key]"
        switch (secret.certificateChainPEM, secret.privateKeyPEM) {
        case (nil, nil):
            if secret.caCertificatesPEM == nil {
                report.warning(
                    "data",
                    "holds no TLS credential (tls.crt and tls.key, or cert and key; ca.crt or cacert for a CA): "
                        + "a Gateway cannot use it")
            }
        case (.some, nil):
            report.error(keyPath, "Required value: a certificate without its private key (tls.key, or key)")
        case (nil, .some):
            report.error(certificatePath, "Required value: a private key without its certificate (tls.crt, or cert)")
        case (.some(let chainPEM), .some(let keyPEM)):
            let chain = certificates(chainPEM, at: certificatePath, report)
            let key = privateKey(keyPEM, at: keyPath, report)
            if let leaf = chain?.first {
                if let key, key.publicKey != leaf.publicKey {
                    report.error(keyPath, "the private key does not match the certificate's public key (\(leaf.subject))")
                }
                if leaf.notValidAfter < now {
                    report.error(certificatePath, "the certificate (\(leaf.subject)) expired at \(iso(leaf.notValidAfter))")
                } else if leaf.notValidBefore > now {
                    report.warning(certificatePath, "the certificate (\(leaf.subject)) is not valid before \(iso(leaf.notValidBefore))")
                }
            }
        }
        if let ca = secret.caCertificatesPEM {
            _ = certificates(ca, at: fields["ca"] ?? "data[ca.crt]", report)
        }
    }

    /// The certificates of a PEM bundle, or nil after reporting why it is not one.
    private static func certificates(_ pem: String, at path: String, _ report: DocumentContext) -> [Certificate]? {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            report.error(path, "not valid PEM: expected -----BEGIN CERTIFICATE----- blocks")
            return nil
        }
        guard !documents.isEmpty else {
            report.error(path, "not valid PEM: expected -----BEGIN CERTIFICATE----- blocks")
            return nil
        }
        var result: [Certificate] = []
        for (index, document) in documents.enumerated() {
            guard document.discriminator == "CERTIFICATE" else {
                report.error(path, "PEM block \(index + 1) is a \(document.discriminator), not a CERTIFICATE")
                return nil
            }
            do {
                result.append(try Certificate(pemDocument: document))
            } catch {
                report.error(path, "PEM block \(index + 1) is not a valid X.509 certificate")
                return nil
            }
        }
        return result
    }

    private static func privateKey(_ pem: String, at path: String, _ report: DocumentContext) -> Certificate.PrivateKey? {
        do {
            return try Certificate.PrivateKey(pemEncoded: pem)
        } catch {
            report.error(
                path,
                "not a valid PEM private key (PKCS#8 PRIVATE KEY, SEC1 EC PRIVATE KEY or PKCS#1 RSA PRIVATE KEY; "
                    + "ECDSA P-256/384/521, RSA or Ed25519)")
            return nil
        }
    }

    private static func iso(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
