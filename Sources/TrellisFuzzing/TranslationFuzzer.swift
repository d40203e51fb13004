import MeshAPI
import XDSCache
import XDSTranslator

/// Fuzz target: whatever of the input validates is translated for every kind of proxy. Validated
/// input must never trap the translator, and translation is deterministic.
public enum TranslationFuzzer {
    static let credentials = ProxyCredentials(
        trustDomain: "cluster.local", certificateChainPEM: "CHAIN", privateKeyPEM: "KEY", rootCertificatePEM: "ROOT")

    public static func fuzz(_ bytes: [UInt8]) {
        let config = ConfigFuzzer.fuzz(bytes).config
        guard !config.keys.isEmpty else { return }
        let index = MeshIndex(config)
        for proxy in proxies(for: config) {
            for credentials in [nil, Self.credentials] {
                let snapshot = ProxyTranslator.snapshot(index, for: proxy, credentials: credentials)
                let again = ProxyTranslator.snapshot(index, for: proxy, credentials: credentials)
                precondition(snapshot == again, "translation is not deterministic for \(proxy)")
            }
            // The class contract: a proxy that differs only in what the class ignores (address,
            // name, account, a label no rule selects on) gets the same outbound layer.
            var other = proxy
            other.ipAddresses = ["10.99.99.99"]
            other.workloadName = "other"
            other.serviceAccount = "other"
            other.labels["fuzz-unselected"] = "x"
            for trustDomain in [nil, "cluster.local"] {
                guard ProxyClass(of: proxy, in: index, trustDomain: trustDomain)
                    == ProxyClass(of: other, in: index, trustDomain: trustDomain)
                else { continue }
                precondition(
                    ProxyTranslator.outbound(index, for: proxy, trustDomain: trustDomain)
                        == ProxyTranslator.outbound(index, for: other, trustDomain: trustDomain),
                    "two proxies of one class got different outbound configuration: \(proxy)")
            }
        }
    }

    /// Sidecars under both interception modes, a gateway and a proxyless gRPC client, in the
    /// namespaces and with the labels and addresses the config's own workloads use.
    static func proxies(for config: MeshConfig) -> [Proxy] {
        var proxies: [Proxy] = []
        var workloads: [(namespace: String, labels: [String: String], address: String, account: String)] = [
            ("default", [:], "10.0.0.1", "default")
        ]
        for entry in config.workloadEntries.prefix(2) {
            workloads.append((entry.namespace, entry.spec.labels, entry.spec.address, entry.spec.serviceAccount ?? "default"))
        }
        for service in config.serviceEntries.prefix(2) {
            for endpoint in service.spec.endpoints.prefix(1) {
                workloads.append(
                    (service.namespace, endpoint.labels, endpoint.address, endpoint.serviceAccount ?? "default"))
            }
        }
        for workload in workloads {
            for mode in [Proxy.InterceptionMode.redirect, .none] {
                proxies.append(
                    Proxy(
                        ipAddresses: [workload.address], namespace: workload.namespace, labels: workload.labels,
                        serviceAccount: workload.account, interceptionMode: mode, identityVerified: true))
            }
        }
        proxies.append(Proxy(kind: .router, namespace: "istio-system", labels: ["istio": "ingressgateway"]))
        proxies.append(Proxy(namespace: "default", generator: .grpc))
        return proxies
    }
}
