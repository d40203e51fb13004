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
            try GoldenSecrets.adding(to: result.config, yaml), for: try GoldenProxy.parse(yaml),
            credentials: try GoldenProxy.credentials(yaml))
        let actual = try SnapshotJSON.render(snapshot)

        let expectedURL = Self.directory.appendingPathComponent(name + ".json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected, "\(name): translation changed; rerun with UPDATE_GOLDEN=1 and review the diff")
    }

    @Test("a '# proxy:' line with a typo fails instead of testing the default proxy")
    func headerTypos() {
        for line in ["# proxy: namespce=default", "# proxy: interception=REDIRCT", "# proxy: mtls=yes", "# proxy: labels=app",
            "# proxy: kind", "# no proxy line"]
        {
            #expect(throws: GoldenProxy.HeaderError.self, "\(line)") { try GoldenProxy.parse(line + "\n") }
        }
        #expect(throws: GoldenProxy.HeaderError.self) { try GoldenProxy.credentials("# proxy: mtls=ture\n") }
    }

    @Test("every resource a route or listener points at exists")
    func consistency() throws {
        for name in Self.cases {
            let input = Self.directory.appendingPathComponent(name + ".yaml")
            let yaml = try String(contentsOf: input, encoding: .utf8)
            let result = ConfigLoader.load([ConfigFile(path: name, contents: yaml)])
            let snapshot = ProxyTranslator.snapshot(
                try GoldenSecrets.adding(to: result.config, yaml), for: try GoldenProxy.parse(yaml),
                credentials: try GoldenProxy.credentials(yaml))
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

/// Gateway credential Secrets of a golden case, from its `# secrets: NAMESPACE/NAME[+ca] ...`
/// line: placeholder text instead of PEM (real keys are never committed; the loader would
/// reject the placeholders, so they are added to the loaded config directly), `+ca` for one
/// that also holds a client CA.
enum GoldenSecrets {
    static func adding(to config: MeshConfig, _ yaml: String) throws -> MeshConfig {
        guard let line = yaml.split(separator: "\n").first(where: { $0.hasPrefix("# secrets:") }) else { return config }
        var config = config
        for entry in line.dropFirst("# secrets:".count).split(separator: " ") {
            let withCA = entry.hasSuffix("+ca")
            let parts = entry.dropLast(withCA ? 3 : 0).split(separator: "/").map(String.init)
            guard parts.count == 2 else { throw GoldenProxy.HeaderError(description: "# secrets: '\(entry)' is not NAMESPACE/NAME[+ca]") }
            let secret = Secret(
                type: "kubernetes.io/tls", certificateChainPEM: "CERTIFICATE OF \(parts[1])", privateKeyPEM: "KEY OF \(parts[1])",
                caCertificatesPEM: withCA ? "CA OF \(parts[1])" : nil)
            config.secrets.append(
                Resource(key: ResourceKey(kind: .secret, namespace: parts[0], name: parts[1]), spec: secret,
                         source: SourceLocation(file: "golden", line: 1)))
        }
        return config
    }
}

/// The proxy a golden case translates for, from its `# proxy: key=value ...` line:
/// `namespace`, `interception` (REDIRECT or NONE), `labels` (a:b,c:d), `ip`, `serviceAccount`, `kind`,
/// `mtls=true` for a proxy with a proven identity (placeholder certificates), and
/// `generator=grpc` for a proxyless gRPC client.
enum GoldenProxy {
    /// A `# proxy:` line that is missing, or has a key or value the parser does not know: a
    /// typo must fail the case, never silently test the default proxy.
    struct HeaderError: Error, CustomStringConvertible {
        var description: String
    }

    static func credentials(_ yaml: String) throws -> ProxyCredentials? {
        _ = try parse(yaml)  // the whole header is checked, mtls's value included
        guard try header(yaml)["mtls"] == "true" else { return nil }
        return ProxyCredentials(
            trustDomain: "cluster.local", certificateChainPEM: "CERTIFICATE CHAIN", privateKeyPEM: "PRIVATE KEY",
            rootCertificatePEM: "ROOT CERTIFICATE")
    }

    static func parse(_ yaml: String) throws -> Proxy {
        var proxy = Proxy(interceptionMode: .none)
        func value<T>(_ key: String, _ text: String, _ make: (String) -> T?) throws -> T {
            guard let value = make(text) else { throw HeaderError(description: "# proxy: \(key)=\(text) is not a valid value") }
            return value
        }
        for (key, text) in try header(yaml) {
            switch key {
            case "namespace": proxy.namespace = text
            case "interception": proxy.interceptionMode = try value(key, text, Proxy.InterceptionMode.init(rawValue:))
            case "ip": proxy.ipAddresses = [text]
            case "generator": proxy.generator = try value(key, text, Proxy.Generator.init(rawValue:))
            case "serviceAccount": proxy.serviceAccount = text
            case "kind": proxy.kind = try value(key, text, Proxy.Kind.init(rawValue:))
            case "mtls": _ = try value(key, text) { ["true", "false"].contains($0) ? $0 : nil }
            case "labels":
                for label in text.split(separator: ",") {
                    let kv = label.split(separator: ":", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { throw HeaderError(description: "# proxy: label '\(label)' is not key:value") }
                    proxy.labels[kv[0]] = kv[1]
                }
            default:
                throw HeaderError(
                    description: "# proxy: unknown key '\(key)' (namespace, interception, labels, ip, serviceAccount, "
                        + "kind, mtls, generator)")
            }
        }
        return proxy
    }

    /// The `key=value` pairs of the case's `# proxy:` line.
    static func header(_ yaml: String) throws -> [String: String] {
        guard let line = yaml.split(separator: "\n").first(where: { $0.hasPrefix("# proxy:") }) else {
            throw HeaderError(description: "the case has no '# proxy:' line")
        }
        var pairs: [String: String] = [:]
        for pair in line.dropFirst("# proxy:".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw HeaderError(description: "# proxy: '\(pair)' is not key=value") }
            pairs[parts[0]] = parts[1]
        }
        return pairs
    }
}
