import CertificateAuthority
import Foundation
import NIOCertificateReloading
import NIOSSL
import Synchronization

/// The secure xDS port's own certificate, issued by the mesh CA and renewed at about half its
/// lifetime while the server runs. The TLS stack asks for it on every handshake, so a renewal
/// reaches new connections at once and leaves open streams alone.
final class ServingCertificate: CertificateReloader {
    /// The DNS name every bootstrap verifies the secure port by (workload certificates never have it).
    static let subjectName = "trellis"

    private struct Current {
        var override: NIOSSLContextConfigurationOverride
        var serialNumber: String
        var renewAt: Date
    }

    private let authority: CertificateAuthority
    private let dnsNames: [String]
    private let ipv4Addresses: [String]
    private let lifetime: TimeInterval
    private let current: Mutex<Current>

    init(authority: CertificateAuthority, dnsNames: [String], ipv4Addresses: [String], lifetime: TimeInterval, now: Date = Date()) throws {
        self.authority = authority
        self.dnsNames = dnsNames
        self.ipv4Addresses = ipv4Addresses
        self.lifetime = lifetime
        current = Mutex(try Self.issue(authority, dnsNames, ipv4Addresses, lifetime, now))
    }

    var sslContextConfigurationOverride: NIOSSLContextConfigurationOverride {
        current.withLock { $0.override }
    }

    var serialNumber: String { current.withLock { $0.serialNumber } }

    /// Issues the next certificate when the current one is due. On failure the current one
    /// keeps serving (it is still valid) and the error is the caller's to report.
    func renewIfDue(now: Date = Date()) throws -> Bool {
        guard current.withLock({ $0.renewAt <= now }) else { return false }
        let next = try Self.issue(authority, dnsNames, ipv4Addresses, lifetime, now)
        current.withLock { $0 = next }
        return true
    }

    private static func issue(
        _ authority: CertificateAuthority, _ dnsNames: [String], _ ipv4Addresses: [String], _ lifetime: TimeInterval,
        _ now: Date
    ) throws -> Current {
        let issued = try authority.issueServing(
            dnsNames: dnsNames, ipv4Addresses: ipv4Addresses, lifetime: lifetime, now: now)
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(issued.certificateChainPEM.utf8))
            .map { .certificate($0) }
        override.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem))
        return Current(
            override: override, serialNumber: issued.serialNumber,
            renewAt: now.addingTimeInterval(lifetime * Double.random(in: 0.4...0.5)))
    }
}
