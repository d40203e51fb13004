/// One response that the proxy has not ACKed or NACKed yet.
struct PendingResponse: Sendable {
    var nonce: String
    var versionInfo: String
    var resources: [String: XDSResource]
    /// Delta only: names the response told the proxy are gone.
    var removed: Set<String> = []
}
