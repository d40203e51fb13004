public import Foundation

/// One connected proxy and its sync state per xDS type: the rows of `GET /api/proxies` and
/// `trellis proxy-status`.
public struct ProxyStatus: Sendable {
    public struct TypeStatus: Sendable {
        /// SYNCED, STALE (sent, not yet ACKed), NACKED or NOT SENT.
        public var status: String
        public var sentVersion: String?
        public var ackedVersion: String?
        /// Envoy's error text of the last NACK (cleared by a later ACK).
        public var nackMessage: String?

        public init(status: String, sentVersion: String?, ackedVersion: String?, nackMessage: String?) {
            self.status = status
            self.sentVersion = sentVersion
            self.ackedVersion = ackedVersion
            self.nackMessage = nackMessage
        }
    }

    public var nodeID: String
    /// sidecar, gateway or grpc.
    public var kind: String
    public var identity: String?
    public var connectedAt: Date
    /// `delta` or `sotw`.
    public var api: String
    public var peer: String
    /// By short type name: CDS, EDS, LDS, RDS, SDS.
    public var types: [String: TypeStatus]
    /// The replica whose stream serves the proxy; nil for this server's own streams.
    public var replica: String?

    public init(
        nodeID: String, kind: String, identity: String?, connectedAt: Date, api: String, peer: String,
        types: [String: TypeStatus], replica: String? = nil
    ) {
        self.replica = replica
        self.nodeID = nodeID
        self.kind = kind
        self.identity = identity
        self.connectedAt = connectedAt
        self.api = api
        self.peer = peer
        self.types = types
    }

    /// What `proxy-config` takes, as `istioctl proxy-config` names them.
    public static let configTypes = ["clusters", "listeners", "routes", "endpoints", "secrets", "all"]

    /// The types every row shows, in `istioctl proxy-status` order.
    public static let typeNames = ["CDS", "LDS", "EDS", "RDS", "SDS"]

    /// `{"proxies": [...]}`, every type present (NOT SENT when the proxy never asked for it).
    /// `replica`: this server's name, given to its own rows and at the top.
    static func json(_ rows: [ProxyStatus], replica: String) throws(APIError) -> String {
        let formatter = ISO8601DateFormatter()
        let items: [[String: Any]] = rows.map { row in
            var types: [String: Any] = [:]
            // Another replica's proxy: its sync state is known there only.
            for name in typeNames where row.replica == nil {
                let type = row.types[name]
                var item: [String: Any] = ["status": type?.status ?? "NOT SENT"]
                if let version = type?.sentVersion { item["sentVersion"] = version }
                if let version = type?.ackedVersion { item["ackedVersion"] = version }
                if let message = type?.nackMessage { item["nack"] = message }
                types[name] = item
            }
            var item: [String: Any] = [
                "node": row.nodeID, "kind": row.kind, "connectedSince": formatter.string(from: row.connectedAt),
                "api": row.api, "peer": row.peer, "types": types, "replica": row.replica ?? replica,
            ]
            if let identity = row.identity { item["identity"] = identity }
            if row.replica != nil { item["remote"] = true }
            return item
        }
        return try ResourceJSON.render(["proxies": items, "replica": replica], what: "the proxies")
    }
}
