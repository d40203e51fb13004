import EnvoyAPI
import Foundation
import MeshAPI
import SwiftProtobuf
import Testing
import XDSCache
import XDSTranslator

/// Golden-file tests of the translator: `Golden/CASE.yaml` (Istio resources, with the proxy
/// described in a `# proxy:` comment) → `Golden/CASE.json` (every resource the proxy receives,
/// as Envoy JSON). Run with UPDATE_GOLDEN=1 to rewrite the expected files, then review the diff.
@Suite("Translator golden files")
struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static var cases: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test("translation matches the golden file", arguments: cases)
    func golden(_ name: String) throws {
        let input = Self.directory.appendingPathComponent(name + ".yaml")
        let yaml = try String(contentsOf: input, encoding: .utf8)
        let result = ConfigLoader.load([ConfigFile(path: input.lastPathComponent, contents: yaml)])
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.isEmpty, "input must be valid: \(errors)")
        let snapshot = ProxyTranslator.snapshot(
            result.config, for: try GoldenProxy.parse(yaml), credentials: GoldenProxy.credentials(yaml))
        let actual = try GoldenRendering.json(snapshot)

        let expectedURL = Self.directory.appendingPathComponent(name + ".json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected, "\(name): translation changed; rerun with UPDATE_GOLDEN=1 and review the diff")
    }

    @Test("every resource a route or listener points at exists")
    func consistency() throws {
        for name in Self.cases {
            let input = Self.directory.appendingPathComponent(name + ".yaml")
            let yaml = try String(contentsOf: input, encoding: .utf8)
            let result = ConfigLoader.load([ConfigFile(path: name, contents: yaml)])
            let snapshot = ProxyTranslator.snapshot(
                result.config, for: try GoldenProxy.parse(yaml), credentials: GoldenProxy.credentials(yaml))
            #expect(snapshot.danglingClusterReferences.isEmpty, "\(name): \(snapshot.danglingClusterReferences)")
            for cluster in snapshot.resources(.cluster).values {
                let decoded = try Envoy_Config_Cluster_V3_Cluster(serializedBytes: cluster.body.value)
                if decoded.type == .eds {
                    #expect(snapshot.resource(.endpoint, named: cluster.name) != nil, "\(name): \(cluster.name) has no endpoints")
                }
            }
        }
    }
}

/// The proxy a golden case translates for, from its `# proxy: key=value ...` line:
/// `namespace`, `interception` (REDIRECT or NONE), `labels` (a:b,c:d), `ip`, `serviceAccount`, `kind`,
/// `mtls=true` for a proxy with a proven identity (placeholder certificates), and
/// `generator=grpc` for a proxyless gRPC client.
enum GoldenProxy {
    struct Missing: Error {}

    static func credentials(_ yaml: String) -> ProxyCredentials? {
        guard let line = yaml.split(separator: "\n").first(where: { $0.hasPrefix("# proxy:") }),
            line.split(separator: " ").contains("mtls=true")
        else { return nil }
        return ProxyCredentials(
            trustDomain: "cluster.local", certificateChainPEM: "CERTIFICATE CHAIN", privateKeyPEM: "PRIVATE KEY",
            rootCertificatePEM: "ROOT CERTIFICATE")
    }

    static func parse(_ yaml: String) throws -> Proxy {
        guard let line = yaml.split(separator: "\n").first(where: { $0.hasPrefix("# proxy:") }) else { throw Missing() }
        var proxy = Proxy(interceptionMode: .none)
        for pair in line.dropFirst("# proxy:".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "namespace": proxy.namespace = parts[1]
            case "interception": proxy.interceptionMode = Proxy.InterceptionMode(rawValue: parts[1]) ?? .none
            case "ip": proxy.ipAddresses = [parts[1]]
            case "generator": proxy.generator = Proxy.Generator(rawValue: parts[1]) ?? .envoy
            case "serviceAccount": proxy.serviceAccount = parts[1]
            case "kind": proxy.kind = Proxy.Kind(rawValue: parts[1]) ?? .sidecar
            case "labels":
                for label in parts[1].split(separator: ",") {
                    let kv = label.split(separator: ":", maxSplits: 1).map(String.init)
                    if kv.count == 2 { proxy.labels[kv[0]] = kv[1] }
                }
            default: break
            }
        }
        return proxy
    }
}

/// Renders a snapshot as stable, readable Envoy JSON.
enum GoldenRendering {
    static let registry: [any SwiftProtobuf.Message.Type] = [
        Envoy_Config_Cluster_V3_Cluster.self, Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
        Envoy_Config_Listener_V3_Listener.self, Envoy_Config_Route_V3_RouteConfiguration.self,
        Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
        Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.self,
        Envoy_Extensions_Filters_Http_Router_V3_Router.self,
        Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault.self,
        Envoy_Extensions_Filters_Http_Cors_V3_Cors.self,
        Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy.self,
        Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector.self,
        Envoy_Extensions_Filters_Listener_OriginalDst_V3_OriginalDst.self,
        Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self,
        Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate.self,
        Envoy_Extensions_Retry_Priority_PreviousPriorities_V3_PreviousPrioritiesConfig.self,
        Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext.self,
        Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext.self,
        Envoy_Extensions_TransportSockets_Tls_V3_Secret.self,
        Envoy_Extensions_Filters_Http_Rbac_V3_RBAC.self,
        Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute.self,
        Envoy_Extensions_Filters_Network_Rbac_V3_RBAC.self,
    ]

    static func json(_ snapshot: Snapshot) throws -> String {
        for type in registry { Google_Protobuf_Any.register(messageType: type) }
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        options.preserveProtoFieldNames = true
        var document: [String: Any] = [:]
        for type in ResourceType.allCases {
            let resources = snapshot.resources(type).values.sorted { $0.name < $1.name }
            guard !resources.isEmpty else { continue }
            document[type.shortName] = try resources.map { resource in
                let text = try resource.body.jsonString(options: options)
                return try JSONSerialization.jsonObject(with: Data(text.utf8))
            }
        }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
