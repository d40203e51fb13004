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
        let actual = try SnapshotJSON.render(snapshot)

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
