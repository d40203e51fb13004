import AdminAPI
import XDSCache
import XDSServer

extension ProxyStatus {
    /// An open stream as the admin API shows it.
    init(_ stream: ConnectedProxies.Stream) {
        self.init(
            nodeID: stream.nodeID, kind: stream.kind, identity: stream.identity, connectedAt: stream.connectedAt,
            api: stream.delta ? "delta" : "sotw", peer: stream.peer,
            types: Dictionary(
                uniqueKeysWithValues: stream.types.map { type, status in
                    (
                        type.shortName,
                        ProxyStatus.TypeStatus(
                            status: status.summary, sentVersion: status.sentVersion, ackedVersion: status.ackedVersion,
                            nackMessage: status.nack?.message)
                    )
                }))
    }
}
