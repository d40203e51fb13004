import EnvoyAPI
import XDSCache

/// The two flavours of ADS, state of the world and incremental (delta), share the stream
/// machinery and the state machine; they differ only in their messages.
protocol DiscoveryMessages: Sendable {
    associatedtype Request: Sendable
    associatedtype Response: Sendable

    static var isDelta: Bool { get }
    /// The node, when the request carries one.
    static func node(of request: Request) -> Envoy_Config_Core_V3_Node?
    static func receive(_ request: Request, into state: inout ADSStreamState) throws(ADSStreamError) -> [ADSAction]
    /// The message to write for a send action of this flavour, and what to log about it.
    static func response(for action: ADSAction) -> (message: Response, type: String, version: String, nonce: String, resources: Int)?
}

/// `StreamAggregatedResources`: every response carries the complete set (CDS, LDS) or the
/// changed resources (EDS, RDS, SDS).
enum StateOfTheWorld: DiscoveryMessages {
    static let isDelta = false

    static func node(of request: Envoy_Service_Discovery_V3_DiscoveryRequest) -> Envoy_Config_Core_V3_Node? {
        request.hasNode ? request.node : nil
    }

    static func receive(
        _ request: Envoy_Service_Discovery_V3_DiscoveryRequest, into state: inout ADSStreamState
    ) throws(ADSStreamError) -> [ADSAction] {
        try state.receive(request)
    }

    static func response(for action: ADSAction)
        -> (message: Envoy_Service_Discovery_V3_DiscoveryResponse, type: String, version: String, nonce: String, resources: Int)?
    {
        guard case .send(let response) = action else { return nil }
        return (response, response.typeURL, response.versionInfo, response.nonce, response.resources.count)
    }
}

/// `DeltaAggregatedResources`: per-resource versions, explicit subscribe/unsubscribe, removals.
enum Incremental: DiscoveryMessages {
    static let isDelta = true

    static func node(of request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest) -> Envoy_Config_Core_V3_Node? {
        request.hasNode ? request.node : nil
    }

    static func receive(
        _ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, into state: inout ADSStreamState
    ) throws(ADSStreamError) -> [ADSAction] {
        try state.receive(delta: request)
    }

    static func response(for action: ADSAction)
        -> (message: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse, type: String, version: String, nonce: String, resources: Int)?
    {
        guard case .sendDelta(let response) = action else { return nil }
        return (response, response.typeURL, response.systemVersionInfo, response.nonce, response.resources.count)
    }
}
