import Synchronization

/// The resources of one type in one snapshot layer, built once and shared by every stream whose
/// snapshot has the layer. Streams compare what they sent against tables, so a table also
/// remembers which names changed since the tables it replaced: every stream of a class asks the
/// same question after a change, and only the first one pays for the answer.
final class ResourceTable: Sendable {
    let byName: [String: XDSResource]
    /// Every name, as a set that streams share as their subscription when they ask for exactly it.
    let names: Set<String>
    /// The resources in name order, as a response carries them.
    let sorted: [XDSResource]
    /// The sum of the resources' entry hashes: equal contents, equal digests.
    let digest: UInt64
    /// The same sum over the names alone: tables with the same names can share one `names`.
    let namesDigest: UInt64
    /// Unique for the process's lifetime, unlike an object's address.
    let id: UInt64

    private static let nextID = Atomic<UInt64>(1)
    /// Names that differ from recently asked-about older tables, by their ids.
    private let changes = Mutex<[(from: UInt64, names: Set<String>)]>([])
    private static let rememberedChanges = 4

    static let empty = ResourceTable([:])

    init(_ byName: [String: XDSResource]) {
        self.byName = byName
        names = Set(byName.keys)
        sorted = byName.values.sorted { $0.name < $1.name }
        digest = byName.values.reduce(0) { $0 &+ $1.entryHash }
        namesDigest = byName.keys.reduce(0) { $0 &+ ContentHash.entry(name: $1, version: "") }
        id = Self.nextID.add(1, ordering: .relaxed).oldValue
    }

    /// This table with `other`'s `names` (which must be equal), so that streams subscribed to
    /// the old set compare it with the new one by identity, not name by name.
    private init(_ table: ResourceTable, names: Set<String>) {
        byName = table.byName
        self.names = names
        sorted = table.sorted
        digest = table.digest
        namesDigest = table.namesDigest
        id = Self.nextID.add(1, ordering: .relaxed).oldValue
    }

    /// Whether both tables have the same names.
    func hasSameNames(as other: ResourceTable) -> Bool {
        namesDigest == other.namesDigest && names == other.names
    }

    func sharingNames(of other: ResourceTable) -> ResourceTable {
        ResourceTable(self, names: other.names)
    }

    /// The same names at the same versions.
    func hasSameContents(as other: ResourceTable) -> Bool {
        other === self
            || (digest == other.digest && byName.count == other.byName.count
                && byName.allSatisfy { other.byName[$0.key]?.version == $0.value.version })
    }

    /// Names whose resource differs between `older` and this table (added, removed or changed).
    func changedNames(since older: ResourceTable) -> Set<String> {
        if older === self { return [] }
        if let known = changes.withLock({ $0.first { $0.from == older.id }?.names }) { return known }
        var changed: Set<String> = []
        for (name, resource) in byName where older.byName[name]?.version != resource.version {
            changed.insert(name)
        }
        for name in older.byName.keys where byName[name] == nil {
            changed.insert(name)
        }
        changes.withLock { changes in
            changes.append((older.id, changed))
            if changes.count > Self.rememberedChanges { changes.removeFirst() }
        }
        return changed
    }
}

/// One type's resources as a snapshot's layers give them: shared tables, the first that has a
/// name wins. Building a view copies no resources.
struct ResourceView: Sendable {
    let tables: [ResourceTable]

    static let empty = ResourceView(tables: [])

    subscript(name: String) -> XDSResource? {
        for table in tables {
            if let resource = table.byName[name] { return resource }
        }
        return nil
    }

    /// The view's resources; a name that an earlier table has is not repeated.
    func forEach(_ body: (XDSResource) -> Void) {
        for (index, table) in tables.enumerated() {
            for resource in table.sorted where !tables[..<index].contains(where: { $0.byName[resource.name] != nil }) {
                body(resource)
            }
        }
    }

    /// Every name of the view, shared with its table when it has only one.
    var names: Set<String> {
        switch tables.count {
        case 0: return []
        case 1: return tables[0].names
        default: return tables.reduce(into: Set<String>()) { $0.formUnion($1.names) }
        }
    }

    /// The digest of the view's contents (see `ResourceTable.digest`).
    var digest: UInt64 {
        var digest = tables.reduce(0) { $0 &+ $1.digest }
        // A name that an earlier table shadows does not count twice.
        for (index, table) in tables.enumerated().dropLast() {
            for name in table.byName.keys {
                for later in tables[(index + 1)...] {
                    if let shadowed = later.byName[name] { digest &-= shadowed.entryHash }
                }
            }
        }
        return digest
    }

    /// The names of a one-table view, which streams can share as their subscription.
    var sharedNames: Set<String>? {
        tables.onlyElement?.names
    }

    /// Whether this view is exactly `other`'s tables.
    func isSame(as other: ResourceView) -> Bool {
        tables.count == other.tables.count && zip(tables, other.tables).allSatisfy { $0 === $1 }
    }

    /// A superset of the names whose resource differs between `older` and this view.
    func changedNames(since older: ResourceView) -> Set<String> {
        // Against nothing, every name changed: the table's own set, not a copy.
        if older.tables.isEmpty { return names }
        if tables.isEmpty { return older.names }
        guard tables.count == older.tables.count else { return names.union(older.names) }
        var changed: Set<String> = []
        for (table, old) in zip(tables, older.tables) where table !== old {
            let names = table.changedNames(since: old)
            if changed.isEmpty { changed = names } else { changed.formUnion(names) }
        }
        return changed
    }
}

extension Array {
    /// The element of a one-element array.
    var onlyElement: Element? { count == 1 ? self[0] : nil }
}
