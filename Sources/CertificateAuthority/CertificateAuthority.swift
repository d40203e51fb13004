public import Foundation
import Crypto
import SwiftASN1
import X509

/// The mesh's certificate authority: signs short-lived workload certificates whose only SAN is
/// the workload's SPIFFE id. Either self-managed (a root created on first start in the data dir
/// and reused on every later start) or plugged in like Istio's `cacerts`: an intermediate key
/// and certificate that chain to an existing root.
public struct CertificateAuthority: Sendable {
    /// The certificate that signs workload certificates (the root, or the plugged-in intermediate).
    let signingCertificate: Certificate
    let signingKey: P256.Signing.PrivateKey
    /// Certificates between the signing certificate and the root (excluded), PEM, for chains.
    let intermediateChainPEM: String
    /// The root every proxy trusts (Secret `ROOTCA`), PEM.
    public let rootCertificatePEM: String
    public let trustDomain: String

    /// Creates the self-managed root in `directory` on first use, or loads it.
    public static func loadOrCreate(directory: String, trustDomain: String, now: Date = Date()) throws -> CertificateAuthority {
        let certPath = (directory as NSString).appendingPathComponent("root-cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("root-key.pem")
        if FileManager.default.fileExists(atPath: certPath) {
            return try CertificateAuthority(
                rootCertificatePEM: SecretFiles.read(certPath), rootKeyPEM: SecretFiles.read(keyPath),
                trustDomain: trustDomain, source: directory)
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CAError.io(directory, (error as NSError).localizedDescription)
        }
        let (authority, keyPEM) = try newRoot(trustDomain: trustDomain, now: now)
        // Key first: a crash between the two writes leaves no certificate without its key.
        try SecretFiles.write(keyPEM, to: keyPath)
        try SecretFiles.writePublic(authority.rootCertificatePEM, to: certPath)
        return authority
    }

    /// A new self-managed root (10 years) and its private key as PEM, for the caller to keep.
    public static func newRoot(trustDomain: String, now: Date = Date()) throws -> (CertificateAuthority, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName(trustDomain)
            CommonName("Trellis root CA")
        }
        let root = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        let rootPEM = try root.serializeAsPEM().pemString + "\n"
        let authority = CertificateAuthority(
            signingCertificate: root, signingKey: key, intermediateChainPEM: "", rootCertificatePEM: rootPEM,
            trustDomain: trustDomain)
        return (authority, key.pemRepresentation + "\n")
    }

    /// Loads an Istio-style plug-in CA directory: `ca-cert.pem` and `ca-key.pem` sign,
    /// `cert-chain.pem` goes into every workload chain, `root-cert.pem` is what proxies trust.
    public static func loadPlugin(directory: String, trustDomain: String) throws -> CertificateAuthority {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let certificate = try certificate(SecretFiles.read(path("ca-cert.pem")), path: path("ca-cert.pem"))
        let key = try privateKey(SecretFiles.read(path("ca-key.pem")), path: path("ca-key.pem"))
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw CAError.invalidMaterial(path("ca-key.pem"), "does not match ca-cert.pem")
        }
        let chain = try SecretFiles.read(path("cert-chain.pem"))
        let root = try SecretFiles.read(path("root-cert.pem"))
        _ = try Self.certificate(root, path: path("root-cert.pem"))
        return CertificateAuthority(
            signingCertificate: certificate, signingKey: key, intermediateChainPEM: chain, rootCertificatePEM: root,
            trustDomain: trustDomain)
    }

    /// Signs a new certificate for `identity`, valid from a little before `now` for `lifetime`.
    public func issue(for identity: WorkloadIdentity, lifetime: TimeInterval, now: Date = Date()) throws -> WorkloadCertificate {
        let (chain, key, serial) = try sign(
            subjectAltNames: [.uniformResourceIdentifier(identity.spiffeID)], lifetime: lifetime, now: now)
        return WorkloadCertificate(
            identity: identity, certificateChainPEM: chain, privateKeyPEM: key, serialNumber: serial,
            notBefore: now, notAfter: min(now.addingTimeInterval(lifetime), signingCertificate.notValidAfter))
    }

    /// A certificate for the control plane's own TLS port: DNS names and IPv4 addresses as SANs.
    /// Returns the chain and key as PEM, and the serial number.
    public func issueServing(dnsNames: [String], ipv4Addresses: [String], lifetime: TimeInterval, now: Date = Date())
        throws -> (certificateChainPEM: String, privateKeyPEM: String, serialNumber: String)
    {
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipv4Addresses {
            let octets = address.split(separator: ".").compactMap { UInt8($0) }
            if octets.count == 4 { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets)))) }
        }
        let (chain, key, serial) = try sign(subjectAltNames: names, lifetime: lifetime, now: now)
        return (chain, key, serial)
    }

    private func sign(subjectAltNames: [GeneralName], lifetime: TimeInterval, now: Date) throws
        -> (chain: String, key: String, serial: String)
    {
        // A certificate the signing certificate does not cover would fail every peer's check:
        // refuse to sign past its expiry, and never outlive it.
        let signerExpiry = signingCertificate.notValidAfter
        guard now < signerExpiry else {
            throw CAError.invalidMaterial("signing certificate", "expired at \(signerExpiry); replace the CA")
        }
        let key = P256.Signing.PrivateKey()
        let serial = Certificate.SerialNumber()
        let certificate = try Certificate(
            version: .v3, serialNumber: serial, publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: min(now.addingTimeInterval(lifetime), signerExpiry),
            issuer: signingCertificate.subject,
            subject: try DistinguishedName { OrganizationName(trustDomain) },
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                Critical(SubjectAlternativeNames(subjectAltNames))
            },
            issuerPrivateKey: Certificate.PrivateKey(signingKey))
        var chain = try certificate.serializeAsPEM().pemString + "\n"
        if !intermediateChainPEM.isEmpty {
            chain += intermediateChainPEM
        } else if signingCertificate.subject != signingCertificate.issuer {
            chain += try signingCertificate.serializeAsPEM().pemString + "\n"
        }
        return (chain, key.pemRepresentation + "\n", serial.description)
    }

    private static func certificate(_ pem: String, path: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: pem)
        } catch {
            throw CAError.invalidMaterial(path, "not a PEM certificate")
        }
    }

    private static func privateKey(_ pem: String, path: String) throws -> P256.Signing.PrivateKey {
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw CAError.invalidMaterial(path, "not a PEM ECDSA P-256 private key")
        }
    }
}

/// A signed workload certificate with its key. `description` never shows the key.
public struct WorkloadCertificate: Sendable, Equatable, CustomStringConvertible {
    public let identity: WorkloadIdentity
    public let certificateChainPEM: String
    public let privateKeyPEM: String
    public let serialNumber: String
    public let notBefore: Date
    public let notAfter: Date

    /// When to replace it: at about half its lifetime, with up to 10% jitter so that many
    /// certificates issued together are not all renewed together.
    public func renewalTime(jitter: Double) -> Date {
        let lifetime = notAfter.timeIntervalSince(notBefore)
        return notBefore.addingTimeInterval(lifetime * (0.5 - 0.1 * min(max(jitter, 0), 1)))
    }

    public var description: String {
        "certificate \(identity) serial \(serialNumber) valid until \(notAfter)"
    }
}

extension CertificateAuthority {
    /// A self-managed root from its PEMs; `source` names where they came from in errors.
    public init(rootCertificatePEM: String, rootKeyPEM: String, trustDomain: String, source: String) throws {
        let certificate = try Self.certificate(rootCertificatePEM, path: source + " (root certificate)")
        let key = try Self.privateKey(rootKeyPEM, path: source + " (root key)")
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw CAError.invalidMaterial(source, "the root key does not match the root certificate")
        }
        self.init(
            signingCertificate: certificate, signingKey: key, intermediateChainPEM: "",
            rootCertificatePEM: rootCertificatePEM, trustDomain: trustDomain)
    }
}
