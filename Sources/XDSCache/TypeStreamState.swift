/// Per-type bookkeeping of one ADS stream (state of the world).
struct TypeStreamState: Sendable {
    /// A request for this type has arrived: only then does the stream send it.
    var requested = false
    /// The proxy asked for every resource of the type (CDS and LDS: `*`, or no names before
    /// it ever named any).
    var wildcard = false
    /// The proxy has sent a non-empty name list for this type: from then on an empty list
    /// unsubscribes from everything instead of meaning wildcard.
    var namedResources = false
    /// Names the proxy subscribes to (named types). When it names exactly the resources of the
    /// snapshot, this is the snapshot table's own set: streams share it instead of a copy each.
    private(set) var subscription: Set<String> = []
    /// The names of the last request as it listed them: a request listing the same (an ACK,
    /// usually) changes nothing, and is known to without building a set of them.
    var lastRequestNames: [String] = []
    /// A hash of the subscription, mixed into response versions.
    private(set) var subscriptionDigest: UInt64 = 0
    /// The subscription that the last response answered; a request that changes it is answered
    /// even when it carries the last nonce and looks like an ACK.
    var answeredSubscription: Set<String>?
    var answeredWildcard: Bool?
    /// The next response must go out even if nothing changed (first request, reconnect).
    var mustAnswer = false

    /// What the proxy has been sent: for full-state types exactly the last response, for named
    /// types the latest version of every name.
    var sent = ResourceMap()
    /// What the proxy has ACKed.
    var applied = ResourceMap()
    /// Versions the proxy NACKed, so that they are not counted as missing forever.
    var rejected: [String: String] = [:]
    var pending: [PendingResponse] = []
    var lastNonce: String?
    /// EDS only: clusters re-sent in CDS; Envoy re-warms them and waits for their endpoints
    /// again, re-requesting with the same names.
    var resendOnNextRequest: Set<String> = []
    /// Delta only: names subscribed since the last response, which must answer for each of
    /// them (with the resource, or as removed when it does not exist).
    var unanswered: Set<String> = []

    var status = TypeSyncStatus()

    /// Whether `name` is in the current subscription.
    func subscribes(to name: String) -> Bool {
        wildcard || subscription.contains(name)
    }

    /// What the proxy would have if it had the whole subscription from `view`.
    func target(_ view: ResourceView) -> ResourceMap {
        // A subscription to every name of a one-table view is the table's own set: no restriction.
        wildcard || view.sharedNames == subscription ? ResourceMap(view) : ResourceMap(view, only: subscription)
    }

    /// Replaces the subscription, sharing `table`'s names (and their digest) when they are the same.
    mutating func subscribe(_ names: Set<String>, sharing table: ResourceTable?) {
        guard names != subscription else { return }
        if let table, names.count == table.names.count, names == table.names {
            subscription = table.names
            subscriptionDigest = table.namesDigest
        } else {
            subscription = names
            subscriptionDigest = names.reduce(0) { $0 &+ ContentHash.entry(name: $1, version: "") }
        }
    }

    mutating func subscribe(adding name: String) -> Bool {
        guard !subscription.contains(name) else { return false }
        subscription.insert(name)
        subscriptionDigest &+= ContentHash.entry(name: name, version: "")
        return true
    }

    mutating func unsubscribe(_ name: String) {
        guard subscription.remove(name) != nil else { return }
        subscriptionDigest &-= ContentHash.entry(name: name, version: "")
    }

    /// Applies the outcome of the response with `nonce`: an ACK applies it and every earlier
    /// one; a NACK applies only the earlier ones (Envoy keeps what it had).
    /// `replaces`: a response carries the complete set (state-of-the-world CDS and LDS), not changes.
    mutating func settle(nonce: String, accepted: Bool, replaces: Bool) -> PendingResponse? {
        guard let index = pending.firstIndex(where: { $0.nonce == nonce }) else { return nil }
        let settled = pending[index]
        let earlier = pending[..<index]
        pending.removeFirst(index + 1)
        for response in earlier { apply(response, replaces: replaces) }
        if accepted {
            apply(settled, replaces: replaces)
        } else {
            for resource in settled.included { rejected[resource.name] = resource.version }
        }
        return settled
    }

    private mutating func apply(_ response: PendingResponse, replaces: Bool) {
        if replaces || applied.isIdentical(to: response.previous) {
            applied = response.view
        } else {
            for resource in response.included { applied[resource.name] = resource }
            for name in response.removed { applied[name] = nil }
            // Usually the proxy now has what the response's view says: share it.
            applied = applied.rebased(onto: response.view)
        }
    }

    /// Forgets names the proxy no longer subscribes to, so that subscribing again re-sends them.
    mutating func prune() {
        guard !wildcard else { return }
        sent.keep(only: subscription)
        applied.keep(only: subscription)
        rejected = rejected.filter { subscription.contains($0.key) }
    }
}

/// Sync state of one type on one stream, as operators will see it (a planned `proxy-status`).
public struct TypeSyncStatus: Sendable, Equatable {
    public var sentVersion: String?
    public var sentNonce: String?
    public var ackedVersion: String?
    /// The version and message of the last NACK, cleared by a later ACK.
    public var nack: (version: String, message: String)?

    public static func == (lhs: TypeSyncStatus, rhs: TypeSyncStatus) -> Bool {
        lhs.sentVersion == rhs.sentVersion && lhs.sentNonce == rhs.sentNonce
            && lhs.ackedVersion == rhs.ackedVersion && lhs.nack?.version == rhs.nack?.version
            && lhs.nack?.message == rhs.nack?.message
    }

    /// SYNCED, STALE (sent, not yet answered), NACKED or NOT SENT.
    public var summary: String {
        if nack != nil { return "NACKED" }
        guard let sentVersion else { return "NOT SENT" }
        return sentVersion == ackedVersion ? "SYNCED" : "STALE"
    }
}
