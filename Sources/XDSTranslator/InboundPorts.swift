import MeshAPI

/// One port on which a workload's proxy accepts traffic for the application, and where the
/// application listens. Istio takes these from the Sidecar's `ingress` section when it has one,
/// else from the services the workload is an endpoint of.
struct InboundPort: Sendable, Equatable {
    /// The port callers' traffic arrives on (the filter chain's destination port).
    var number: UInt32
    var `protocol`: PortProtocol
    /// Where the application listens.
    var endpointHost: String
    var endpointPort: UInt32
    /// The address of a listener of its own; nil means a filter chain of `virtualInbound`
    /// (iptables hands the connection over).
    var bind: String?

    var clusterName: String { ClusterName.inbound(port: number) }

    static func ports(for context: TranslationContext) -> [InboundPort] {
        let proxy = context.proxy
        if let ingress = context.sidecar?.spec.ingress, !ingress.isEmpty {
            return ingress.map { listener in
                let explicit = proxy.interceptionMode == .none || listener.captureMode == CaptureMode.none
                let port = listener.port.number
                let (host, target) = endpoint(listener.defaultEndpoint, proxy: proxy, port: port)
                return InboundPort(
                    number: port, protocol: listener.port.protocol, endpointHost: host, endpointPort: target,
                    bind: explicit ? (listener.bind ?? defaultBind(proxy)) : nil)
            }
        }
        // Without iptables, a listener on the application's own port would clash with the
        // application: such proxies accept inbound traffic only through Sidecar ingress.
        guard proxy.interceptionMode != .none else { return [] }
        var ports: [UInt32: InboundPort] = [:]
        for service in context.registry.services {
            for endpoint in service.endpoints where proxy.ipAddresses.contains(endpoint.address) {
                for servicePort in service.ports {
                    let target = endpoint.port(for: servicePort)
                    guard ports[target] == nil else { continue }
                    ports[target] = InboundPort(
                        number: target, protocol: servicePort.protocol, endpointHost: "127.0.0.1", endpointPort: target,
                        bind: nil)
                }
            }
        }
        return ports.keys.sorted().map { ports[$0]! }
    }

    /// Istio binds inbound listeners to the workload's IP when it is a routable unicast
    /// address, otherwise to the wildcard.
    static func defaultBind(_ proxy: Proxy) -> String {
        guard let ip = proxy.ipAddresses.first, !ip.hasPrefix("127."), ip != "::1" else { return "0.0.0.0" }
        return ip
    }

    /// `defaultEndpoint` is `127.0.0.1:PORT`, `0.0.0.0:PORT` (the workload's own IP), `[::1]:PORT`
    /// or `unix://PATH`; without one the application listens on 127.0.0.1 at the port.
    static func endpoint(_ text: String?, proxy: Proxy, port: UInt32) -> (String, UInt32) {
        guard let text else { return ("127.0.0.1", port) }
        if text.hasPrefix("unix://") { return (text, 0) }
        guard let colon = text.lastIndex(of: ":"), let number = UInt32(text[text.index(after: colon)...]) else {
            return ("127.0.0.1", port)
        }
        let host = String(text[..<colon])
        return (host == "0.0.0.0" || host == "[::]" ? (proxy.ipAddresses.first ?? "127.0.0.1") : host, number)
    }
}
