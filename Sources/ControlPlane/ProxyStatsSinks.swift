import AdminAPI
import CertificateAuthority
import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import MeshTelemetry
import XDSServer
import XDSTranslator

/// Stats streams on the plaintext development port: the source workload is whatever the node
/// claims, as for its ADS stream.
struct PlaintextStatsSink: ProxyStatsSink {
    let controller: MeshController
    let trustClaimedIdentities: Bool
    let graph: ServiceGraph

    func admit(node: Envoy_Config_Core_V3_Node, metadata: Metadata) throws -> any ProxyStatsReceiver {
        let proxy = try controller.proxy(for: node, grant: nil, trustClaims: trustClaimedIdentities)
        return GraphReporter(graph: graph, source: SourceWorkload(name: proxy.workloadName, namespace: proxy.namespace))
    }
}

/// Stats streams on the secure port: the same bearer token as the proxy's ADS stream, and the
/// same check that the node is who the token says (a registered VM is its WorkloadEntry).
struct AuthenticatedStatsSink: ProxyStatsSink {
    let controller: MeshController
    let tokens: WorkloadTokens
    let graph: ServiceGraph
    let logger: Logger

    func admit(node: Envoy_Config_Core_V3_Node, metadata: Metadata) async throws -> any ProxyStatsReceiver {
        let grant = try await tokens.grant(for: metadata, logger: logger)
        let proxy = try controller.proxy(for: node, grant: grant, trustClaims: false)
        return GraphReporter(
            graph: graph, source: SourceWorkload(name: grant.workload ?? proxy.workloadName, namespace: proxy.namespace))
    }
}

/// One admitted proxy's flushes, recorded as its workload's outbound edges.
struct GraphReporter: ProxyStatsReceiver {
    let graph: ServiceGraph
    let source: SourceWorkload

    func receive(_ families: [Io_Prometheus_Client_MetricFamily]) {
        graph.record(OutboundRequests(families), from: source)
    }
}
