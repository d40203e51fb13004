import AdminAPI
import ConfigStore
import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import MeshAPI
import SwiftProtobuf
import XDSTranslator

/// Istio's WorkloadGroup auto-registration: a proxy that connects with a valid token and
/// `WORKLOAD_GROUP` metadata gets a WorkloadEntry made from the group's template, owned by the
/// group (`istio.io/autoRegistrationGroup`). The entry is removed once no stream has held it
/// for the cleanup grace; a reconnect within the grace keeps it. A change of the group's
/// template or labels is written to the entries of its connected proxies.
///
/// On a store with leases (replicas on etcd) each entry is bound to a lease of the grace that
/// the replica holding the proxy's stream keeps alive: when the stream ends, or the replica
/// crashes, etcd removes the entry a grace later unless the proxy came back to some replica,
/// which then writes the entry under a lease of its own.
actor AutoRegistration {
    /// What a connected proxy contributed to its entry, to rebuild it when the group changes.
    private struct Registrant {
        var group: String
        var address: String
        var serviceAccount: String
        var labels: [String: String]
        var network: String?
        var streams: Int
    }

    private let resources: MeshResources
    private let grace: Duration
    private let logger: Logger
    private var registrants: [ResourceKey: Registrant] = [:]
    private var cleanups: [ResourceKey: Task<Void, Never>] = [:]
    private var groups: [ResourceKey: WorkloadGroup] = [:]
    /// Per entry held here, on a store with leases: its lease and when it was last refreshed.
    private var leases: [ResourceKey: (lease: StoreLease, refreshed: ContinuousClock.Instant)] = [:]

    init(resources: MeshResources, grace: Duration, logger: Logger) {
        self.resources = resources
        self.grace = grace
        self.logger = logger
    }

    /// The group a node asks to join (`WORKLOAD_GROUP` metadata), if any.
    nonisolated static func groupName(of node: Envoy_Config_Core_V3_Node) -> String? {
        guard case .stringValue(let name)? = node.metadata.fields["WORKLOAD_GROUP"]?.kind, !name.isEmpty else { return nil }
        return name
    }

    /// Writes (or keeps) the proxy's entry and counts the stream; the caller calls `release`
    /// when the stream ends. Throws the RPC error that refuses the stream.
    func admit(group name: String, proxy: Proxy, serviceAccount: String, config: MeshConfig) async throws -> ResourceKey {
        guard let group = config.workloadGroups.first(where: { $0.namespace == proxy.namespace && $0.name == name }) else {
            throw RPCError(
                code: .failedPrecondition,
                message: "WORKLOAD_GROUP: workloadgroup \(proxy.namespace)/\(name) does not exist")
        }
        if let account = group.spec.template.serviceAccount, account != serviceAccount {
            throw RPCError(
                code: .permissionDenied,
                message: "workloadgroup \(proxy.namespace)/\(name) runs as \(account); the token is for \(serviceAccount)")
        }
        guard let address = proxy.ipAddresses.first else {
            throw RPCError(code: .invalidArgument, message: "auto-registration needs the proxy's address (INSTANCE_IPS)")
        }
        let network = group.spec.template.network
        let entryName = ([name, address] + (network.map { [$0] } ?? [])).joined(separator: "-")
            .replacingOccurrences(of: ":", with: "-").lowercased()
        let key = ResourceKey(kind: .workloadEntry, namespace: proxy.namespace, name: entryName)
        if let existing = config.workloadEntries.first(where: { $0.key == key }),
            existing.annotations[WorkloadGroup.autoRegistrationAnnotation] != name
        {
            throw RPCError(
                code: .alreadyExists,
                message: "\(key) exists and is not auto-registered by workloadgroup \(name); not overwritten")
        }
        var registrant = registrants[key] ?? Registrant(
            group: name, address: address, serviceAccount: serviceAccount, labels: proxy.labels, network: network, streams: 0)
        registrant.labels = proxy.labels
        registrant.streams += 1
        registrants[key] = registrant
        cleanups.removeValue(forKey: key)?.cancel()
        groups[group.key] = group.spec
        do {
            try await write(key, registrant, group: group.spec)
        } catch {
            release(key)
            logger.error("cannot auto-register \(key) for workloadgroup \(name): \(error)")
            throw RPCError(code: .unavailable, message: "cannot register the workload: \(error)")
        }
        return key
    }

    /// One stream of the entry ended: when none is left, the entry goes after the grace (its
    /// lease is no longer kept alive, or it is deleted then).
    func release(_ key: ResourceKey) {
        guard var registrant = registrants[key] else { return }
        registrant.streams -= 1
        registrants[key] = registrant
        guard registrant.streams <= 0 else { return }
        if leases.removeValue(forKey: key) != nil {
            registrants[key] = nil
            return
        }
        scheduleCleanup(key)
    }

    /// `reconcile` once a second with the configuration served, until cancelled.
    func follow(_ served: @Sendable () -> MeshConfig) async {
        while !Task.isCancelled {
            await keepLeasesAlive()
            await reconcile(config: served())
            try? await Task.sleep(for: .seconds(1))  // cancellation ends the loop
        }
    }

    /// Auto-registered entries that no stream holds (e.g. after a restart) go after the grace,
    /// and entries of groups whose template changed are rewritten. Called periodically.
    func reconcile(config: MeshConfig) async {
        // With leases, etcd removes what no replica keeps alive.
        for entry in config.workloadEntries
        where resources.leases == nil && entry.annotations[WorkloadGroup.autoRegistrationAnnotation] != nil {
            if registrants[entry.key] == nil && cleanups[entry.key] == nil { scheduleCleanup(entry.key) }
        }
        for group in config.workloadGroups where groups[group.key] != nil && groups[group.key] != group.spec {
            groups[group.key] = group.spec
            for (key, registrant) in registrants
            where registrant.group == group.name && key.namespace == group.namespace && registrant.streams > 0 {
                do {
                    try await write(key, registrant, group: group.spec)
                    logger.info("updated \(key) from the changed template of workloadgroup \(group.name)")
                } catch {
                    logger.error("cannot update \(key) from workloadgroup \(group.name): \(error)")
                }
            }
        }
    }

    private func write(_ key: ResourceKey, _ registrant: Registrant, group: WorkloadGroup) async throws {
        let entry = group.entry(
            address: registrant.address, serviceAccount: registrant.serviceAccount, labels: registrant.labels)
        var annotations = group.metadata?.annotations ?? [:]
        annotations[WorkloadGroup.autoRegistrationAnnotation] = registrant.group
        let document = WorkloadRegistration.document(
            kind: .workloadEntry, namespace: key.namespace, name: key.name, annotations: annotations,
            spec: WorkloadRegistration.spec(of: entry))
        let text = try WorkloadRegistration.yaml([document])
        let lease = try await lease(for: key)
        let result = try await resources.apply(
            [ConfigFile(path: "auto-registration:\(key)", contents: text, origin: .api)], lease: lease)
        if result.outcomes.contains(where: { $0.action == .created }) {
            logger.info("auto-registered \(key) (workloadgroup \(registrant.group), \(registrant.address))")
        }
    }

    /// The entry's lease on a store with leases (granted on first use), nil otherwise.
    private func lease(for key: ResourceKey) async throws -> StoreLease? {
        guard let store = resources.leases else { return nil }
        if let held = leases[key] { return held.lease }
        let lease = try await store.grantLease(ttl: grace)
        leases[key] = (lease, .now)
        return lease
    }

    /// Refreshes each held lease a third of its lifetime after the last refresh. One that
    /// expired meanwhile (the store was unreachable for longer) took its entry with it: the
    /// entry is written again under a new lease.
    private func keepLeasesAlive() async {
        guard let store = resources.leases else { return }
        for (key, held) in leases where ContinuousClock.now - held.refreshed >= held.lease.ttl / 3 {
            do {
                if try await store.keepAlive(held.lease) {
                    leases[key]?.refreshed = .now
                    continue
                }
                leases[key] = nil
                guard let registrant = registrants[key], registrant.streams > 0,
                    let group = groups[ResourceKey(kind: .workloadGroup, namespace: key.namespace, name: registrant.group)]
                else { continue }
                try await write(key, registrant, group: group)
                logger.notice("registered \(key) again: its lease had expired")
            } catch {
                logger.warning("cannot keep the lease of \(key) alive: \(error); retrying")
            }
        }
    }

    private func scheduleCleanup(_ key: ResourceKey) {
        cleanups[key]?.cancel()
        let grace = self.grace
        cleanups[key] = Task { [weak self] in
            do {
                try await Task.sleep(for: grace)
            } catch {
                return  // a stream came back
            }
            await self?.cleanUp(key)
        }
    }

    private func cleanUp(_ key: ResourceKey) async {
        cleanups[key] = nil
        guard (registrants[key]?.streams ?? 0) <= 0 else { return }
        registrants[key] = nil
        do {
            // Only an entry that is still auto-registered: a user may have taken the name over.
            guard let stored = try await resources.resource(key),
                try await resources.configuration().workloadEntries.first(where: { $0.key == key })?
                    .annotations[WorkloadGroup.autoRegistrationAnnotation] != nil
            else { return }
            _ = try await resources.delete(key, resourceVersion: stored.modRevision)
            logger.info("removed \(key): its proxy has been gone for the cleanup grace")
        } catch {
            logger.error("cannot remove the auto-registered \(key): \(error); retrying after the grace")
            scheduleCleanup(key)
        }
    }
}
