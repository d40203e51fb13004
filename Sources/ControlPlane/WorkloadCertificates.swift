import CertificateAuthority
import Foundation
import Logging
import Synchronization
import XDSTranslator

/// What signs workload certificates: the mesh CA, or a stand-in that fails on purpose in tests.
protocol WorkloadCertificateIssuer: Sendable {
    var trustDomain: String { get }
    var rootCertificatePEM: String { get }
    func issue(for identity: WorkloadIdentity, lifetime: TimeInterval, now: Date) throws -> WorkloadCertificate
}

extension CertificateAuthority: WorkloadCertificateIssuer {}

/// One current certificate per workload identity, issued on first need and renewed at about
/// half its lifetime (jittered). Proxies of one identity share it; a renewal changes their
/// snapshots' `default` secret, which the cache pushes over SDS on the open streams.
///
/// A failure to issue is never hidden: it is logged once per episode, counted, and retried
/// with exponential backoff (`retryDue` tells the caller when to rebuild); until it clears, the
/// identity's proxies get no certificate, so their STRICT ports refuse connections.
final class WorkloadCertificates: Sendable {
    private struct Entry {
        var certificate: WorkloadCertificate
        var renewAt: Date
    }

    /// A failing identity: why, since when, how many attempts, and when to try again.
    struct Failure: Sendable, Equatable {
        var reason: String
        var since: Date
        var attempts: Int
        var retryAt: Date
    }

    private struct State {
        var entries: [WorkloadIdentity: Entry] = [:]
        var failures: [WorkloadIdentity: Failure] = [:]
        /// Certificates issued since start (`/metrics`).
        var issued = 0
    }

    static let firstRetry: TimeInterval = 1
    static let maximumRetry: TimeInterval = 60

    let issuer: any WorkloadCertificateIssuer
    let lifetime: TimeInterval
    let logger: Logger
    /// Now; injected so that tests can step past backoffs and renewals.
    let clock: @Sendable () -> Date
    private let state = Mutex(State())

    init(issuer: any WorkloadCertificateIssuer, lifetime: TimeInterval, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.issuer = issuer
        self.lifetime = lifetime
        self.logger = logger
        self.clock = clock
    }

    func identity(namespace: String, serviceAccount: String) -> WorkloadIdentity {
        WorkloadIdentity(trustDomain: issuer.trustDomain, namespace: namespace, serviceAccount: serviceAccount)
    }

    /// The identity's current credentials, issuing or renewing its certificate when due. Throws
    /// ``CredentialsUnavailable`` while the issuer fails (without asking it again before the
    /// backoff has passed).
    func credentials(for identity: WorkloadIdentity) throws(CredentialsUnavailable) -> ProxyCredentials {
        let now = clock()
        let certificate = try state.withLock { state throws(CredentialsUnavailable) -> WorkloadCertificate in
            if let entry = state.entries[identity], entry.renewAt > now { return entry.certificate }
            if let failure = state.failures[identity], failure.retryAt > now {
                throw CredentialsUnavailable(identity: identity, reason: failure.reason)
            }
            do {
                let certificate = try issuer.issue(for: identity, lifetime: lifetime, now: now)
                state.entries[identity] = Entry(
                    certificate: certificate, renewAt: certificate.renewalTime(jitter: Double.random(in: 0...1)))
                state.issued += 1
                if let failure = state.failures.removeValue(forKey: identity) {
                    logger.notice("certificate for \(identity) issued again after \(failure.attempts) failed attempts")
                }
                logger.info("issued \(certificate)")
                return certificate
            } catch {
                let reason = "\(error)"
                var failure = state.failures[identity]
                    ?? Failure(reason: reason, since: now, attempts: 0, retryAt: now)
                if failure.attempts == 0 || failure.reason != reason {
                    logger.error("cannot issue a certificate for \(identity): \(reason); its proxies' STRICT ports refuse connections until it can")
                }
                failure.reason = reason
                failure.attempts += 1
                let backoff = min(Self.firstRetry * pow(2, Double(failure.attempts - 1)), Self.maximumRetry)
                failure.retryAt = now.addingTimeInterval(backoff)
                state.failures[identity] = failure
                // A certificate that is due for renewal but still valid keeps serving.
                if let entry = state.entries[identity], entry.certificate.notAfter > now { return entry.certificate }
                throw CredentialsUnavailable(identity: identity, reason: reason)
            }
        }
        return ProxyCredentials(
            trustDomain: issuer.trustDomain, certificateChainPEM: certificate.certificateChainPEM,
            privateKeyPEM: certificate.privateKeyPEM, rootCertificatePEM: issuer.rootCertificatePEM)
    }

    /// Whether some certificate is due for renewal, or a failed one for another attempt; the
    /// caller then rebuilds the snapshots, which renews (or retries) it.
    func renewalDue() -> Bool {
        let now = clock()
        return state.withLock { state in
            state.entries.values.contains { $0.renewAt <= now } || state.failures.values.contains { $0.retryAt <= now }
        }
    }

    /// Identities whose certificate cannot be issued now, and why.
    var failures: [WorkloadIdentity: Failure] {
        state.withLock { $0.failures }
    }

    /// Forgets the certificates (and failures) of identities no connected proxy has: keys are
    /// not kept in memory for workloads that left.
    func prune(keeping identities: Set<WorkloadIdentity>) {
        state.withLock { state in
            state.entries = state.entries.filter { identities.contains($0.key) }
            state.failures = state.failures.filter { identities.contains($0.key) }
        }
    }

    /// Certificates issued since start, and when the first of those held expires.
    var issuance: (issued: Int, soonestExpiry: Date?) {
        state.withLock { ($0.issued, $0.entries.values.map(\.certificate.notAfter).min()) }
    }

    /// Identities that currently hold a certificate.
    var cachedIdentities: Set<WorkloadIdentity> {
        state.withLock { Set($0.entries.keys) }
    }
}

/// A workload certificate could not be issued; `reason` is the issuer's error.
struct CredentialsUnavailable: Error, CustomStringConvertible {
    var identity: WorkloadIdentity
    var reason: String

    var description: String { "no certificate for \(identity): \(reason)" }
}
