/// One response that the proxy has not ACKed or NACKed yet.
struct PendingResponse: Sendable {
    var nonce: String
    var versionInfo: String
    /// The resources it carries.
    var included: [XDSResource]
    /// Delta only: names the response told the proxy are gone.
    var removed: [String] = []
    /// What the proxy has once it applies this response (and every earlier one).
    var view: ResourceMap
    /// What the stream had sent before it: a proxy that had applied exactly that has `view`
    /// after this one, with no lookups.
    var previous: ResourceMap
}
