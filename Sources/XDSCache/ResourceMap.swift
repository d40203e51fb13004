/// Name → resource, as one stream sent them or its proxy applied them, kept as a shared view of
/// a snapshot (optionally only the names of a subscription) plus the few names where this
/// stream differs: a resource held back or kept for make-before-break, one the proxy still has
/// from before, a name it forgot. Thousands of streams of one class then hold pointers to the
/// same tables instead of a dictionary each, and comparing two maps costs what changed, not
/// what exists.
struct ResourceMap: Sendable {
    private(set) var base: ResourceView
    /// Only these names of `base` (nil: all of them). A stream's subscription, shared.
    private(set) var restriction: Set<String>?
    /// Where this map differs from `base`: another resource, or nil for "absent".
    private(set) var overrides: [String: XDSResource?] = [:]

    init(_ base: ResourceView = .empty, only restriction: Set<String>? = nil) {
        self.base = base
        self.restriction = restriction
    }

    subscript(name: String) -> XDSResource? {
        get {
            if let override = overrides[name] { return override }
            if let restriction, !restriction.contains(name) { return nil }
            return base[name]
        }
        set {
            if inBase(name)?.version == newValue?.version {
                overrides[name] = nil
            } else {
                overrides[name] = .some(newValue)
            }
        }
    }

    private func inBase(_ name: String) -> XDSResource? {
        if let restriction, !restriction.contains(name) { return nil }
        return base[name]
    }

    /// Every resource of the map: the base's in table order, then the overrides' in name order.
    func forEach(_ body: (XDSResource) -> Void) {
        base.forEach { resource in
            if overrides[resource.name] == nil, restriction?.contains(resource.name) ?? true { body(resource) }
        }
        for name in overrides.keys.sorted() {
            if let resource = overrides[name]! { body(resource) }
        }
    }

    var resources: [XDSResource] {
        if overrides.isEmpty, restriction == nil, base.tables.count == 1 { return base.tables[0].sorted }
        var all: [XDSResource] = []
        forEach { all.append($0) }
        return all
    }

    var names: Set<String> {
        var names: Set<String> = []
        forEach { names.insert($0.name) }
        return names
    }

    /// A digest of the contents for response versions, costing one step per override. A
    /// restriction is left out (the base counts whole): callers mix in the subscription.
    var digest: UInt64 {
        var digest = base.digest
        for (name, override) in overrides {
            if let shadowed = base[name] { digest &-= shadowed.entryHash }
            if let override { digest &+= override.entryHash }
        }
        return digest
    }

    /// A superset of the names whose resource differs between this map and `other`.
    func namesThatMayDiffer(from other: ResourceMap) -> Set<String> {
        var names = base.changedNames(since: other.base)
        names.formUnion(overrides.keys)
        names.formUnion(other.overrides.keys)
        if restriction != other.restriction {
            switch (restriction, other.restriction) {
            case (let mine?, let theirs?): names.formUnion(mine.symmetricDifference(theirs))
            case (let mine?, nil): names.formUnion(other.base.names.subtracting(mine))
            case (nil, let theirs?): names.formUnion(base.names.subtracting(theirs))
            case (nil, nil): break
            }
        }
        return names
    }

    /// The same contents, expressed over `target`'s base and restriction: what it costs is one
    /// override per name where the two differ, none when the stream has caught up. `candidates`
    /// must include every such name (`namesThatMayDiffer`).
    func rebased(onto target: ResourceMap, candidates: Set<String>) -> ResourceMap {
        var rebased = ResourceMap(target.base, only: target.restriction)
        for name in candidates {
            rebased[name] = self[name]
        }
        return rebased
    }

    func rebased(onto target: ResourceMap) -> ResourceMap {
        rebased(onto: target, candidates: namesThatMayDiffer(from: target))
    }

    /// True only when the map certainly holds nothing (cheap; may say false for an empty map).
    var isKnownEmpty: Bool {
        overrides.values.allSatisfy { $0 == nil }
            && (base.tables.allSatisfy { $0.byName.isEmpty } || restriction?.isEmpty == true)
    }

    /// Whether both maps are the same shared tables, restriction and no overrides: equal
    /// without a lookup. False says nothing.
    func isIdentical(to other: ResourceMap) -> Bool {
        overrides.isEmpty && other.overrides.isEmpty && base.isSame(as: other.base) && restriction == other.restriction
    }

    /// Whether this map is exactly `view`, in the same shared tables: then it needs no lookups.
    func isExactly(_ view: ResourceView) -> Bool {
        overrides.isEmpty && restriction == nil && base.isSame(as: view)
    }

    /// Whether both maps hold the same versions under the same names.
    func hasSameVersions(as other: ResourceMap) -> Bool {
        namesThatMayDiffer(from: other).allSatisfy { self[$0]?.version == other[$0]?.version }
    }

    /// Keeps only `names`: a name dropped and later asked for again is not taken as already there.
    mutating func keep(only names: Set<String>) {
        // Usually the restriction is the subscription already, or the subscription is every
        // name of the one table (both the same shared set): nothing to drop.
        if restriction == names || (restriction == nil && overrides.isEmpty && base.sharedNames == names) { return }
        var kept = ResourceMap(base, only: names)
        for name in namesThatMayDiffer(from: kept) {
            kept[name] = names.contains(name) ? self[name] : nil
        }
        self = kept
    }
}
