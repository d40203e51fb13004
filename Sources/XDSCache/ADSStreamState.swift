public import EnvoyAPI

/// What the caller of ``ADSStreamState`` must do after an event.
public enum ADSAction: Sendable {
    case send(Envoy_Service_Discovery_V3_DiscoveryResponse)
    case acknowledged(ResourceType, version: String, nonce: String)
    case rejected(ResourceType, version: String, nonce: String, message: String)
}

/// A request the stream cannot serve; the stream ends with this error, others are unaffected.
public enum ADSStreamError: Error, Equatable, CustomStringConvertible {
    case unsupportedType(String)
    case missingNode

    public var description: String {
        switch self {
        case .unsupportedType(let url):
            let served = ResourceType.allCases.map(\.typeURL).joined(separator: ", ")
            return "unsupported type_url '\(url)'; Trellis serves \(served)"
        case .missingNode:
            return "the first DiscoveryRequest of a stream must carry node (id and metadata)"
        }
    }
}

/// The state-of-the-world ADS protocol for one stream, as a plain state machine: the caller feeds
/// it requests and snapshots and performs the actions it returns, in order.
///
/// Contract (docs/ads-protocol.md gives the Envoy behaviour behind each rule):
/// - a type is sent only after the proxy asked for it; the first request of a type (and every
///   request that changes a named subscription) is answered, even when nothing changed;
/// - otherwise a response goes out only when what the proxy would receive changes: ACKs are
///   never answered, versions are content hashes;
/// - a listener or route configuration that sends traffic to a cluster is held back until the
///   proxy has ACKed (or NACKed) that cluster, so Envoy never routes to a cluster it lacks;
///   only clusters the proxy subscribes to hold anything back: a client that asks for clusters
///   by name (gRPC) asks for a route's clusters after it has the route;
/// - a cluster the proxy may still route to stays in CDS until the routes that use it are
///   replaced and ACKed ("make before break");
/// - a cluster sent again in CDS gets its endpoints sent again on the next EDS request, since
///   Envoy re-warms it (envoy#13009);
/// - an empty CDS/LDS name list is a wildcard only until the stream has named resources
///   (Envoy's legacy wildcard); `*` is a wildcard at any time;
/// - requests with a stale nonce settle that response's ACK/NACK but do not change the
///   subscription.
public struct ADSStreamState: Sendable {
    public private(set) var node: Envoy_Config_Core_V3_Node?
    private var snapshot: Snapshot?
    private var types: [ResourceType: TypeStreamState] = [:]
    private var nonceCounter: UInt64 = 0

    public init() {}

    /// Sync state of every type the proxy has asked for.
    public var syncStatus: [ResourceType: TypeSyncStatus] {
        types.filter { $0.value.requested }.mapValues(\.status)
    }

    /// Sets the proxy's current configuration and returns the responses it causes.
    public mutating func update(_ snapshot: Snapshot) -> [ADSAction] {
        self.snapshot = snapshot
        return respond(trigger: nil)
    }

    /// Handles one request from the proxy.
    public mutating func receive(
        _ request: Envoy_Service_Discovery_V3_DiscoveryRequest
    ) throws(ADSStreamError) -> [ADSAction] {
        if node == nil {
            guard request.hasNode else { throw .missingNode }
            node = request.node
        }
        guard let type = ResourceType(rawValue: request.typeURL) else {
            throw .unsupportedType(request.typeURL)
        }
        var state = types[type] ?? TypeStreamState()
        var actions: [ADSAction] = []
        let nonce = request.responseNonce
        if !nonce.isEmpty {
            let accepted = !request.hasErrorDetail
            if let settled = state.settle(nonce: nonce, accepted: accepted, fullState: type.isFullState) {
                if accepted {
                    state.status.ackedVersion = settled.versionInfo
                    state.status.nack = nil
                    actions.append(.acknowledged(type, version: settled.versionInfo, nonce: nonce))
                } else {
                    let message = request.errorDetail.message
                    state.status.nack = (settled.versionInfo, message)
                    actions.append(
                        .rejected(type, version: settled.versionInfo, nonce: nonce, message: message))
                }
            }
            guard nonce == state.lastNonce else {
                // Stale: a newer response is on its way; the proxy restates its subscription
                // when it answers that one.
                types[type] = state
                return actions + respond(trigger: nil)
            }
        } else {
            state.mustAnswer = true
        }
        state.requested = true
        // Envoy's legacy wildcard: an empty list on CDS/LDS means "everything" only until the
        // stream has named resources; after that it means "nothing". `*` always means everything
        // (plus any names beside it).
        let names = Set(request.resourceNames)
        state.wildcard = type.isFullState && (names.contains("*") || (names.isEmpty && !state.namedResources))
        if !names.isEmpty { state.namedResources = true }
        state.subscription = names.subtracting(["*"])
        if state.answeredSubscription != state.subscription || state.answeredWildcard != state.wildcard {
            state.mustAnswer = true
        }
        state.prune()
        types[type] = state
        return actions + respond(trigger: type)
    }

    // MARK: - Responses

    private mutating func respond(trigger: ResourceType?) -> [ADSAction] {
        guard snapshot != nil else { return [] }
        var actions: [ADSAction] = []
        for type in ResourceType.allCases where types[type]?.requested == true {
            if let response = makeResponse(type, trigger: trigger) {
                actions.append(.send(response))
            }
        }
        return actions
    }

    private mutating func makeResponse(
        _ type: ResourceType, trigger: ResourceType?
    ) -> Envoy_Service_Discovery_V3_DiscoveryResponse? {
        guard let snapshot, var state = types[type] else { return nil }
        let included: [String: XDSResource]
        let proxyView: [String: XDSResource]
        if type.isFullState {
            let desired = fullStateResources(type, state: state, snapshot: snapshot)
            guard state.mustAnswer || desired.mapValues(\.version) != state.sent.mapValues(\.version)
            else { return nil }
            included = desired
            proxyView = desired
        } else {
            let resend = trigger == .endpoint && type == .endpoint ? state.resendOnNextRequest : []
            var changed: [String: XDSResource] = [:]
            for name in state.subscription {
                guard let resource = snapshot.resource(type, named: name) else { continue }
                let isNew = state.sent[name]?.version != resource.version || resend.contains(name)
                if isNew && isReady(resource, snapshot: snapshot) { changed[name] = resource }
            }
            if type == .endpoint && trigger == .endpoint {
                state.resendOnNextRequest.subtract(state.subscription)
            }
            guard state.mustAnswer || !changed.isEmpty else {
                types[type] = state
                return nil
            }
            included = changed
            proxyView = state.sent.merging(changed) { _, new in new }
        }

        nonceCounter += 1
        let nonce = String(nonceCounter)
        let versionInfo = ContentHash.of(versions: proxyView.mapValues(\.version))
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.versionInfo = versionInfo
        response.typeURL = type.typeURL
        response.nonce = nonce
        response.resources = included.values.sorted { $0.name < $1.name }.map(\.body)

        if type == .cluster {
            var endpoints = types[.endpoint] ?? TypeStreamState()
            for (name, cluster) in included where state.sent[name]?.version != cluster.version {
                endpoints.resendOnNextRequest.insert(name)
            }
            types[.endpoint] = endpoints
        }
        state.sent = proxyView
        state.pending.append(PendingResponse(nonce: nonce, versionInfo: versionInfo, resources: included))
        state.lastNonce = nonce
        state.mustAnswer = false
        state.answeredSubscription = state.subscription
        state.answeredWildcard = state.wildcard
        state.status.sentVersion = versionInfo
        state.status.sentNonce = nonce
        types[type] = state
        return response
    }

    /// The complete set a CDS or LDS response carries now.
    private func fullStateResources(
        _ type: ResourceType, state: TypeStreamState, snapshot: Snapshot
    ) -> [String: XDSResource] {
        var desired = snapshot.resources(type).filter { state.subscribes(to: $0.key) }
        switch type {
        case .cluster:
            // Keep clusters that routes the proxy has (or is being sent) still point at.
            let inUse = clustersInUse()
            for (name, old) in state.sent where desired[name] == nil && inUse.contains(name) {
                desired[name] = old
            }
        case .listener:
            // A changed listener whose clusters the proxy lacks waits; its old version stays.
            for (name, resource) in desired where state.sent[name]?.version != resource.version {
                if !isReady(resource, snapshot: snapshot) { desired[name] = state.sent[name] }
            }
        default:
            break
        }
        return desired
    }

    /// Clusters referred to by any listener the proxy has or was sent, and by the route
    /// configurations those listeners name. Without listener state (a client asking only for
    /// routes), every route configuration it has or was sent counts.
    private func clustersInUse() -> Set<String> {
        var inUse: Set<String> = []
        var routeNames: Set<String> = []
        let listeners = types[.listener]
        for resource in listeners.map({ Array($0.sent.values) + Array($0.applied.values) }) ?? [] {
            inUse.formUnion(resource.referencedClusters)
            routeNames.formUnion(resource.referencedRoutes)
        }
        guard let routes = types[.route] else { return inUse }
        let listenersKnown = listeners?.requested == true
        for resource in Array(routes.sent.values) + Array(routes.applied.values)
        where !listenersKnown || routeNames.contains(resource.name) {
            inUse.formUnion(resource.referencedClusters)
        }
        return inUse
    }

    /// Whether every cluster `resource` routes to is settled on the proxy: ACKed (or NACKed) at
    /// the snapshot's version. Clusters the snapshot lacks, and clusters a proxy subscribing by
    /// name has not asked for (it will once it has the route), do not hold anything back.
    private func isReady(_ resource: XDSResource, snapshot: Snapshot) -> Bool {
        guard resource.type == .listener || resource.type == .route,
            let clusters = types[.cluster], clusters.requested
        else { return true }
        return resource.referencedClusters.allSatisfy { name in
            guard clusters.subscribes(to: name), let cluster = snapshot.resource(.cluster, named: name) else {
                return true
            }
            return clusters.applied[name]?.version == cluster.version
                || clusters.rejected[name] == cluster.version
        }
    }
}
