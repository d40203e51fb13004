import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import XDSCache

/// Runs one ADS stream (state of the world or delta, by `Messages`): merges the proxy's
/// requests and its group's snapshot updates into one sequence of events and feeds them to an
/// ``ADSStreamState``. Snapshots pass through a ``SnapshotMailbox``, so however slow the proxy,
/// only the newest one is held.
struct ADSStream<Messages: DiscoveryMessages> {
    typealias Request = Messages.Request
    typealias Response = Messages.Response

    private enum Event: Sendable {
        case request(Request)
        /// The group has a newer snapshot in the stream's mailbox.
        case snapshotChanged
        case requestsEnded
        case requestsFailed(any Error)
        /// The source ended the stream (e.g. a revoked token).
        case terminated(RPCError)
    }

    let source: any ProxySnapshotSource
    let metadata: Metadata
    let closer: StreamCloser
    let proxies: ConnectedProxies
    let metrics: XDSMetrics
    let peer: String
    let writeDeadline: WriteDeadline
    var logger: Logger

    func run(requests: RPCAsyncSequence<Request, any Error>, writer: RPCWriter<Response>) async throws {
        let (events, input) = AsyncStream.makeStream(of: Event.self)
        // Latest wins end to end: a stream that falls behind skips intermediate snapshots.
        let mailbox = SnapshotMailbox()
        let registration = closer.register { input.yield(.requestsEnded) }
        defer { closer.unregister(registration) }
        var ended: (@Sendable () -> Void)?
        defer { ended?() }
        var listed: UInt64?
        defer { if let listed { proxies.close(listed) } }
        var published: [ResourceType: TypeSyncStatus] = [:]
        /// When each type's oldest change not yet ACKed reached this stream (push latency).
        var changedAt: [ResourceType: ContinuousClock.Instant] = [:]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await request in requests { input.yield(.request(request)) }
                    input.yield(.requestsEnded)
                } catch {
                    input.yield(.requestsFailed(error))
                }
            }
            defer { group.cancelAll() }
            var state = ADSStreamState(delta: Messages.isDelta)
            var logger = self.logger
            loop: for await event in events {
                let actions: [ADSAction]
                var isChange = false
                switch event {
                case .request(let request):
                    if state.node == nil {
                        guard let node = Messages.node(of: request) else {
                            throw RPCError(code: .invalidArgument, message: ADSStreamError.missingNode.description)
                        }
                        logger[metadataKey: "node"] = "\(node.id)"
                        let session: ProxySession
                        do {
                            session = try await source.subscribe(node: node, metadata: metadata)
                        } catch {
                            // Once per refused stream: operators see why a proxy gets no config.
                            logger.warning("stream refused: \((error as? RPCError)?.message ?? "\(error)")")
                            throw error
                        }
                        ended = session.ended
                        listed = proxies.open(
                            ConnectedProxies.Stream(
                                nodeID: node.id, kind: session.kind, identity: session.identity, connectedAt: Date(),
                                delta: Messages.isDelta, peer: peer, types: [:], current: session.current))
                        let subscription = session.subscription
                        _ = state.update(subscription.initial)
                        if let termination = session.termination {
                            group.addTask {
                                for await error in termination {
                                    input.yield(.terminated(error))
                                    break
                                }
                            }
                        }
                        group.addTask {
                            for await snapshot in subscription.updates where mailbox.put(snapshot) {
                                input.yield(.snapshotChanged)
                            }
                        }
                        logger.info(Messages.isDelta ? "proxy connected (delta)" : "proxy connected")
                    }
                    do throws(ADSStreamError) {
                        actions = try Messages.receive(request, into: &state)
                    } catch {
                        logger.warning("rejected request: \(error)")
                        throw RPCError(code: .invalidArgument, message: error.description)
                    }
                case .snapshotChanged:
                    guard let snapshot = mailbox.take() else { continue }
                    actions = state.update(snapshot)
                    isChange = true
                case .requestsEnded:
                    break loop
                case .requestsFailed(let error):
                    logger.debug("stream ended: \(error)")
                    break loop
                case .terminated(let error):
                    logger.warning("stream ended by the server: \(error.message)")
                    throw error
                }
                let handled = ContinuousClock.now  // before a slow proxy's write can wait
                try await perform(actions, writer: writer, logger: logger)
                count(actions, isChange: isChange, at: handled, changedAt: &changedAt)
                if let listed {
                    let status = state.syncStatus
                    if status != published {
                        proxies.update(listed, types: status)
                        published = status
                    }
                }
            }
            if state.node != nil { logger.info("proxy disconnected") }
        }
    }

    /// Counts pushes and NACKs; a change's push latency runs from when the stream handled it
    /// (`handled`) to the ACK.
    private func count(
        _ actions: [ADSAction], isChange: Bool, at handled: ContinuousClock.Instant,
        changedAt: inout [ResourceType: ContinuousClock.Instant]
    ) {
        for action in actions {
            switch action {
            case .send, .sendDelta:
                guard let type = Messages.response(for: action).flatMap({ ResourceType(rawValue: $0.type) }) else { continue }
                metrics.pushed(type)
                if isChange && changedAt[type] == nil { changedAt[type] = handled }
            case .acknowledged(let type, _, _):
                if let since = changedAt.removeValue(forKey: type) { metrics.acknowledged(type, after: handled - since) }
            case .rejected(let type, _, _, _):
                metrics.nacked(type)
                changedAt[type] = nil
            }
        }
    }

    private func perform(_ actions: [ADSAction], writer: RPCWriter<Response>, logger: Logger) async throws {
        for action in actions {
            switch action {
            case .send, .sendDelta:
                guard let response = Messages.response(for: action) else { continue }
                logger.debug(
                    "sent \(ResourceType(rawValue: response.type)?.shortName ?? response.type)",
                    metadata: [
                        "version": "\(response.version)", "nonce": "\(response.nonce)",
                        "resources": "\(response.resources)",
                    ])
                let message = response.message
                do {
                    try await writeDeadline.write { try await writer.write(message) }
                } catch let error as RPCError where error.code == .unavailable {
                    logger.warning("\(error.message)")
                    throw error
                }
            case .acknowledged(let type, let version, let nonce):
                logger.info("ACK \(type.shortName)", metadata: ["version": "\(version)", "nonce": "\(nonce)"])
            case .rejected(let type, let version, let nonce, let message):
                logger.warning(
                    "NACK \(type.shortName): \(message)", metadata: ["version": "\(version)", "nonce": "\(nonce)"])
            }
        }
    }
}
