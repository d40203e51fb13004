import Foundation
import SwiftProtobuf
import XDSCache
import XDSTranslator

/// What a configuration change would do to one proxy (`trellis diff`): each resource added,
/// removed or changed, a changed one with the lines of its Envoy JSON that differ.
struct ConfigDiff: Sendable {
    struct Change: Sendable {
        var type: ResourceType
        var name: String
        /// added, removed or changed.
        var action: String
        /// `- line` / `+ line` for a changed resource.
        var lines: [String] = []
    }

    var changes: [Change]

    init(from before: Snapshot, to after: Snapshot) throws {
        var changes: [Change] = []
        for type in ResourceType.allCases {
            let old = before.resources(type)
            let new = after.resources(type)
            for name in Set(old.keys).union(new.keys).sorted() {
                switch (old[name], new[name]) {
                case (nil, _?): changes.append(Change(type: type, name: name, action: "added"))
                case (_?, nil): changes.append(Change(type: type, name: name, action: "removed"))
                case (let was?, let now?) where was.body.value != now.body.value:
                    let lines = try Self.lines(from: SnapshotJSON.json(was), to: SnapshotJSON.json(now))
                    changes.append(Change(type: type, name: name, action: "changed", lines: lines))
                default: break
                }
            }
        }
        self.changes = changes
    }

    /// The lines that differ, in order: removals as `- `, insertions as `+ `.
    private static func lines(from old: String, to new: String) -> [String] {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let ordered = after.difference(from: before).sorted { ($0.offset, $0.isInsertion ? 1 : 0) < ($1.offset, $1.isInsertion ? 1 : 0) }
        return ordered.map { change in
            switch change {
            case .remove(_, let line, _): "- " + line
            case .insert(_, let line, _): "+ " + line
            }
        }
    }
}

extension CollectionDifference.Change {
    fileprivate var offset: Int {
        switch self {
        case .insert(let offset, _, _), .remove(let offset, _, _): offset
        }
    }

    fileprivate var isInsertion: Bool {
        if case .insert = self { return true }
        return false
    }
}
