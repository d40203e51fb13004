import Foundation
import MeshAPI

/// What applying a request would change for one group of identical proxies (`POST /api/diff`,
/// `trellis diff`).
public struct ProxyDiff: Sendable {
    public struct Change: Sendable {
        /// CDS, EDS, LDS, RDS or SDS.
        public var type: String
        public var name: String
        /// added, removed or changed.
        public var action: String
        /// For a changed resource: the lines of its Envoy JSON that differ (`- ` / `+ `).
        public var lines: [String]

        public init(type: String, name: String, action: String, lines: [String]) {
            self.type = type
            self.name = name
            self.action = action
            self.lines = lines
        }
    }

    /// `KIND~IP~WORKLOAD.NAMESPACE` of the group.
    public var proxy: String
    public var changes: [Change]

    public init(proxy: String, changes: [Change]) {
        self.proxy = proxy
        self.changes = changes
    }

    static func json(_ diffs: [ProxyDiff], warnings: [Diagnostic]) throws(APIError) -> String {
        let proxies: [[String: Any]] = diffs.map { diff in
            [
                "proxy": diff.proxy,
                "changes": diff.changes.map { change -> [String: Any] in
                    var item: [String: Any] = ["type": change.type, "name": change.name, "action": change.action]
                    if !change.lines.isEmpty { item["diff"] = change.lines }
                    return item
                },
            ]
        }
        let object: [String: Any] = ["proxies": proxies, "warnings": warnings.map(\.description)]
        return try ResourceJSON.render(object, what: "the diff")
    }
}
