public import EnvoyAPI
import SwiftProtobuf

extension ADSStreamState {
    /// Handles one incremental (delta) request: subscribe/unsubscribe change the subscription
    /// whatever the nonce (they are changes, not a restated state); the nonce settles an ACK
    /// or NACK. On a type's first request, `initial_resource_versions` says what a reconnecting
    /// proxy already has: only what differs is sent again, and what no longer exists is removed.
    /// A first CDS/LDS request that subscribes to nothing is a wildcard (Envoy's legacy rule).
    public mutating func receive(
        delta request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
    ) throws(ADSStreamError) -> [ADSAction] {
        precondition(isDelta, "a delta request on a state-of-the-world stream")
        let type = try accept(node: request.hasNode ? request.node : nil, typeURL: request.typeURL)
        var state = types[type] ?? TypeStreamState()
        let actions = settle(
            &state, type, nonce: request.responseNonce, error: request.hasErrorDetail ? request.errorDetail.message : nil)
        if !state.requested {
            state.requested = true
            state.mustAnswer = true
            state.wildcard = type.isFullState && request.resourceNamesSubscribe.isEmpty
            for (name, version) in request.initialResourceVersions {
                // The proxy's copy, as far as versions go: the same resource when it is current.
                // A placeholder knows no references, so until its listeners are sent again the
                // clusters they use do not hold anything back.
                let current = snapshot?.resource(type, named: name)
                let known = current?.version == version ? current : XDSResource(placeholder: type, name: name, version: version)
                state.sent[name] = known
                state.applied[name] = known
            }
        }
        for name in request.resourceNamesSubscribe {
            if name == "*" {
                state.wildcard = true
            } else if state.subscribe(adding: name) {
                state.unanswered.insert(name)
                state.mustAnswer = true
            }
        }
        for name in request.resourceNamesUnsubscribe {
            if name == "*" {
                state.wildcard = false
            } else {
                state.unsubscribe(name)
                state.unanswered.remove(name)
                if !state.wildcard {
                    // The proxy forgets it; subscribing again gets it again.
                    state.sent[name] = nil
                    state.applied[name] = nil
                }
            }
        }
        types[type] = state
        return actions + respond(trigger: type)
    }
}
