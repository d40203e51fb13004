public import EnvoyAPI
public import GRPCCore
public import MeshAPI
import Synchronization
import XDSCache
public import XDSServer
import XDSTranslator

/// Holds the mesh configuration being served and each connected group of proxies' snapshot;
/// a new configuration is translated for every group and pushed to the streams it changes.
public final class MeshController: ProxySnapshotSource {
    private struct State {
        var config = MeshConfig()
        var generation = 0
    }

    private let state = Mutex(State())
    private let cache = SnapshotCache<Proxy>()

    public init() {}

    public var config: MeshConfig { state.withLock { $0.config } }

    /// Serves `config` from now on.
    public func apply(_ config: MeshConfig) {
        state.withLock {
            $0.config = config
            $0.generation += 1
        }
        cache.rebuildAll { ProxyTranslator.snapshot(config, for: $0) }
    }

    public func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) throws -> SnapshotSubscription {
        let proxy: Proxy
        do {
            proxy = try Proxy(node: node)
        } catch {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
        let (config, generation) = state.withLock { ($0.config, $0.generation) }
        let subscription = cache.watch(proxy) { ProxyTranslator.snapshot(config, for: $0) }
        // A config applied while this group's first snapshot was built must not be missed.
        let (latest, latestGeneration) = state.withLock { ($0.config, $0.generation) }
        if latestGeneration != generation {
            cache.set(ProxyTranslator.snapshot(latest, for: proxy), for: proxy)
        }
        return subscription
    }
}
