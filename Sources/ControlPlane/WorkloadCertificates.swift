import CertificateAuthority
import Foundation
import Logging
import Synchronization
import XDSTranslator

/// One current certificate per workload identity, issued on first need and renewed at about
/// half its lifetime (jittered). Proxies of one identity share it; a renewal changes their
/// snapshots' `default` secret, which the cache pushes over SDS on the open streams.
final class WorkloadCertificates: Sendable {
    private struct Entry {
        var certificate: WorkloadCertificate
        var renewAt: Date
    }

    let authority: CertificateAuthority
    let lifetime: TimeInterval
    let logger: Logger
    private let entries = Mutex<[WorkloadIdentity: Entry]>([:])

    init(authority: CertificateAuthority, lifetime: TimeInterval, logger: Logger) {
        self.authority = authority
        self.lifetime = lifetime
        self.logger = logger
    }

    func credentials(namespace: String, serviceAccount: String, now: Date = Date()) throws -> ProxyCredentials {
        let identity = WorkloadIdentity(
            trustDomain: authority.trustDomain, namespace: namespace, serviceAccount: serviceAccount)
        let certificate = try entries.withLock { entries in
            if let entry = entries[identity], entry.renewAt > now { return entry.certificate }
            let certificate = try authority.issue(for: identity, lifetime: lifetime, now: now)
            entries[identity] = Entry(certificate: certificate, renewAt: certificate.renewalTime(jitter: Double.random(in: 0...1)))
            logger.info("issued \(certificate)")
            return certificate
        }
        return ProxyCredentials(
            trustDomain: authority.trustDomain, certificateChainPEM: certificate.certificateChainPEM,
            privateKeyPEM: certificate.privateKeyPEM, rootCertificatePEM: authority.rootCertificatePEM)
    }

    /// Whether some certificate is due for renewal; the caller then rebuilds the snapshots,
    /// which renews it.
    func renewalDue(now: Date = Date()) -> Bool {
        entries.withLock { entries in entries.values.contains { $0.renewAt <= now } }
    }
}
