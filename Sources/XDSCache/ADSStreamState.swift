public import EnvoyAPI

/// What the caller of ``ADSStreamState`` must do after an event.
public enum ADSAction: Sendable {
    case send(Envoy_Service_Discovery_V3_DiscoveryResponse)
    /// Incremental (delta) ADS: the resources that changed and the names that are gone.
    case sendDelta(Envoy_Service_Discovery_V3_DeltaDiscoveryResponse)
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
    /// Incremental (delta) ADS instead of state of the world: responses carry what changed and
    /// what was removed, subscriptions change by explicit subscribe/unsubscribe.
    public let isDelta: Bool
    var snapshot: Snapshot?
    var types: [ResourceType: TypeStreamState] = [:]
    private var nonceCounter: UInt64 = 0

    public init(delta: Bool = false) {
        isDelta = delta
    }

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
        let type = try accept(node: request.hasNode ? request.node : nil, typeURL: request.typeURL)
        var state = types[type] ?? TypeStreamState()
        let nonce = request.responseNonce
        let actions = settle(&state, type, nonce: nonce, error: request.hasErrorDetail ? request.errorDetail.message : nil)
        if !nonce.isEmpty {
            guard nonce == state.lastNonce else {
                // Stale: a newer response is on its way; the proxy restates its subscription
                // when it answers that one.
                types[type] = state
                return actions + respond(trigger: nil)
            }
        } else {
            state.mustAnswer = true
        }
        let repeated = state.requested && request.resourceNames == state.lastRequestNames
        state.requested = true
        if !repeated {
            // Envoy's legacy wildcard: an empty list on CDS/LDS means "everything" only until the
            // stream has named resources; after that it means "nothing". `*` always means
            // everything (plus any names beside it).
            var names = Set(request.resourceNames)
            state.wildcard = type.isFullState && (names.contains("*") || (names.isEmpty && !state.namedResources))
            if !names.isEmpty { state.namedResources = true }
            names.remove("*")
            state.subscribe(names, sharing: snapshot?.view(type).tables.onlyElement)
            state.lastRequestNames = request.resourceNames
            if state.answeredSubscription != state.subscription || state.answeredWildcard != state.wildcard {
                state.mustAnswer = true
            }
            state.prune()
        }
        types[type] = state
        return actions + respond(trigger: type)
    }

    /// Keeps the node of the stream's first request (which must carry one) and returns the
    /// request's type, or throws for a type Trellis does not serve.
    mutating func accept(node requestNode: Envoy_Config_Core_V3_Node?, typeURL: String) throws(ADSStreamError) -> ResourceType {
        if node == nil {
            guard let requestNode else { throw .missingNode }
            node = requestNode
        }
        guard let type = ResourceType(rawValue: typeURL) else { throw .unsupportedType(typeURL) }
        return type
    }

    /// Applies the ACK or NACK a request's nonce carries.
    func settle(_ state: inout TypeStreamState, _ type: ResourceType, nonce: String, error: String?) -> [ADSAction] {
        guard !nonce.isEmpty,
            let settled = state.settle(nonce: nonce, accepted: error == nil, replaces: type.isFullState && !isDelta)
        else { return [] }
        if let error {
            state.status.nack = (settled.versionInfo, error)
            return [.rejected(type, version: settled.versionInfo, nonce: nonce, message: error)]
        }
        state.status.ackedVersion = settled.versionInfo
        state.status.nack = nil
        return [.acknowledged(type, version: settled.versionInfo, nonce: nonce)]
    }

    // MARK: - Responses

    mutating func respond(trigger: ResourceType?) -> [ADSAction] {
        guard snapshot != nil else { return [] }
        var actions: [ADSAction] = []
        for type in ResourceType.allCases where types[type]?.requested == true {
            if let response = makeResponse(type, trigger: trigger) { actions.append(response) }
        }
        return actions
    }

    private mutating func makeResponse(_ type: ResourceType, trigger: ResourceType?) -> ADSAction? {
        guard let snapshot, var state = types[type] else { return nil }
        let target = state.target(snapshot.view(type))
        // Every name whose resource may have changed for this proxy; all others stay as sent.
        var candidates = state.sent.namesThatMayDiffer(from: target)
        var proxyView: ResourceMap
        var included: [XDSResource] = []
        var removed: [String] = []
        if type.isFullState {
            proxyView = desiredFullState(type, target: target, candidates: candidates, state: state, snapshot: snapshot)
            let sent = state.sent
            let isChanged = { (name: String) in sent[name]?.version != proxyView[name]?.version }
            if isDelta {
                let changed = candidates.filter(isChanged)
                guard state.mustAnswer || !changed.isEmpty else { return nil }
                included = changed.compactMap { proxyView[$0] }
                removed = changed.filter { proxyView[$0] == nil }
            } else {
                guard state.mustAnswer || candidates.contains(where: isChanged) else { return nil }
                included = proxyView.resources
            }
            if type == .cluster, var endpoints = types[.endpoint], !endpoints.sent.isKnownEmpty {
                // Envoy re-warms a cluster sent again and waits for its endpoints (envoy#13009);
                // endpoints never sent go out anyway.
                endpoints.resendOnNextRequest.formUnion(
                    candidates.filter { isChanged($0) && proxyView[$0] != nil && endpoints.sent[$0] != nil })
                types[.endpoint] = endpoints
            }
        } else {
            // Delta streams get no EDS request after a cluster changes, so its endpoints go at once.
            let resend = type == .endpoint && (trigger == .endpoint || isDelta) ? state.resendOnNextRequest : []
            if !resend.isEmpty { candidates.formUnion(resend.filter(state.subscribes)) }
            if !state.unanswered.isEmpty { candidates.formUnion(state.unanswered) }
            // Whether the proxy ends up with exactly `target` (nothing held back, nothing it keeps).
            var reachesTarget = true
            for name in candidates {
                if let resource = target[name] {
                    let isNew = state.sent[name]?.version != resource.version || resend.contains(name)
                    if isNew {
                        if isReady(resource, snapshot: snapshot) { included.append(resource) } else { reachesTarget = false }
                    }
                } else if isDelta && (state.sent[name] != nil || state.unanswered.contains(name)) {
                    // Asked for but not there (any more): the proxy must not wait for it.
                    removed.append(name)
                } else if state.sent[name] != nil {
                    reachesTarget = false  // state of the world: the proxy keeps what it has
                }
            }
            if !resend.isEmpty { state.resendOnNextRequest.subtract(state.subscription) }
            guard state.mustAnswer || !included.isEmpty || !removed.isEmpty else {
                types[type] = state
                return nil
            }
            if reachesTarget {
                proxyView = target
            } else {
                proxyView = state.sent
                for resource in included { proxyView[resource.name] = resource }
                for name in removed { proxyView[name] = nil }
                proxyView = proxyView.rebased(onto: target)
            }
        }
        // A full state-of-the-world response comes in table order already.
        if isDelta || !type.isFullState { included.sort { $0.name < $1.name } }
        removed.sort()

        nonceCounter += 1
        let nonce = String(nonceCounter)
        let versionInfo = ContentHash.version(proxyView.digest &+ state.subscriptionDigest)
        let action = isDelta
            ? .sendDelta(Self.deltaResponse(type, version: versionInfo, nonce: nonce, resources: included, removed: removed))
            : ADSAction.send(Self.response(type, version: versionInfo, nonce: nonce, resources: included))
        state.pending.append(
            PendingResponse(
                nonce: nonce, versionInfo: versionInfo, included: included, removed: removed, view: proxyView,
                previous: state.sent))
        state.sent = proxyView
        state.lastNonce = nonce
        state.mustAnswer = false
        state.unanswered = []
        state.answeredSubscription = state.subscription
        state.answeredWildcard = state.wildcard
        state.status.sentVersion = versionInfo
        state.status.sentNonce = nonce
        types[type] = state
        return action
    }

    static func response(
        _ type: ResourceType, version: String, nonce: String, resources: [XDSResource]
    ) -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.versionInfo = version
        response.typeURL = type.typeURL
        response.nonce = nonce
        response.resources = resources.map(\.body)
        return response
    }

    static func deltaResponse(
        _ type: ResourceType, version: String, nonce: String, resources: [XDSResource], removed: [String]
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        var response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        response.systemVersionInfo = version
        response.typeURL = type.typeURL
        response.nonce = nonce
        response.resources = resources.map { resource in
            var entry = Envoy_Service_Discovery_V3_Resource()
            entry.name = resource.name
            entry.version = resource.version
            entry.resource = resource.body
            return entry
        }
        response.removedResources = removed
        return response
    }

    /// The complete set a CDS or LDS response carries now: the subscription's resources, except
    /// that a cluster the proxy may still route to stays, and a changed listener whose clusters
    /// the proxy lacks waits (its old version stays).
    private func desiredFullState(
        _ type: ResourceType, target: ResourceMap, candidates: Set<String>, state: TypeStreamState, snapshot: Snapshot
    ) -> ResourceMap {
        var desired = target
        switch type {
        case .cluster:
            guard !state.sent.isKnownEmpty else { break }  // nothing sent, nothing to keep
            var inUse: Set<String>?
            for name in candidates where desired[name] == nil {
                guard let old = state.sent[name] else { continue }
                if inUse == nil { inUse = clustersInUse() }
                if inUse!.contains(name) { desired[name] = old }
            }
        case .listener:
            for name in candidates {
                guard let resource = desired[name], state.sent[name]?.version != resource.version else { continue }
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
        for map in [listeners?.sent, listeners?.applied].compactMap({ $0 }) {
            map.forEach { resource in
                inUse.formUnion(resource.referencedClusters)
                routeNames.formUnion(resource.referencedRoutes)
            }
        }
        guard let routes = types[.route] else { return inUse }
        let listenersKnown = listeners?.requested == true
        for map in [routes.sent, routes.applied] {
            map.forEach { resource in
                if !listenersKnown || routeNames.contains(resource.name) { inUse.formUnion(resource.referencedClusters) }
            }
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
        // The proxy has ACKed exactly the snapshot's clusters: every one it routes to is there.
        if clusters.applied.isExactly(snapshot.view(.cluster)) { return true }
        return resource.referencedClusters.allSatisfy { name in
            guard clusters.subscribes(to: name), let cluster = snapshot.resource(.cluster, named: name) else {
                return true
            }
            return clusters.applied[name]?.version == cluster.version
                || clusters.rejected[name] == cluster.version
        }
    }
}
