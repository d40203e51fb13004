import MeshAPI

/// One server of a Gateway that selects the proxy, with what translation needs to know about it.
struct GatewayServer {
    let gateway: Resource<Gateway>
    /// Its position in `spec.servers`.
    let index: Int
    let server: Gateway.Server

    /// `NAMESPACE/NAME`, as VirtualServices bind to it.
    var gatewayName: String { "\(gateway.namespace)/\(gateway.name)" }
    var port: UInt32 { server.port.number }
    var bind: String { server.bind ?? "0.0.0.0" }
    var tls: ServerTLSSettings? { server.tls }

    /// How the server's connections are handled, which decides the filter chain it gets.
    enum Handling: Equatable {
        /// Plaintext HTTP, shared by every such server on the port (route configuration `http.PORT`).
        case http
        /// TLS terminated here, then HTTP (route configuration `https.PORT.NAME.GATEWAY.NS`).
        case https
        /// TLS terminated here, then TCP routes.
        case terminatedTLS
        /// TLS passed through by SNI to `tls` routes.
        case passthrough
        /// Plain TCP to `tcp` routes.
        case tcp
    }

    var handling: Handling {
        let proto = server.port.protocol
        let terminates = tls.map { $0.mode != .passthrough && $0.mode != .autoPassthrough } ?? false
        if proto.isHTTP { return .http }
        if proto == .https { return terminates ? .https : .passthrough }
        if proto == .tls { return terminates ? .terminatedTLS : .passthrough }
        return .tcp
    }

    /// Plaintext HTTP and TLS cannot share a port; TCP takes a port alone.
    var portClass: Int {
        switch handling {
        case .http: 0
        case .https, .terminatedTLS, .passthrough: 1
        case .tcp: 2
        }
    }

    /// The server's hosts as `(namespace, host)`: `*` when no namespace is given, `.` resolved
    /// to the Gateway's namespace.
    var hosts: [(namespace: String, host: String)] {
        server.hosts.map { entry in
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return ("*", entry) }
            return (parts[0] == "." ? gateway.namespace : parts[0], parts[1])
        }
    }

    /// SNI names for the filter chain match: the hosts, none when one of them is `*`.
    var serverNames: [String] {
        let names = hosts.map(\.host)
        return names.contains("*") ? [] : Array(Set(names)).sorted()
    }

    /// The route configuration of an HTTPS server, as Istio names it.
    var httpsRouteName: String {
        "https.\(port).\(server.port.name).\(gateway.name).\(gateway.namespace)"
    }

    static func httpRouteName(port: UInt32) -> String { "http.\(port)" }
}

/// The Gateways that select a gateway proxy (any namespace, Istio's default) and their servers,
/// grouped into the listeners they make.
enum GatewayServers {
    /// Gateways whose `selector` labels are all among the proxy's labels, in namespace/name order.
    static func gateways(for proxy: Proxy, in config: MeshConfig) -> [Resource<Gateway>] {
        config.gateways.filter { gateway in gateway.spec.selector.allSatisfy { proxy.labels[$0.key] == $0.value } }
    }

    /// One listener per bind address and port, each with its servers in Gateway then server
    /// order. A server whose kind of traffic (plaintext HTTP, TLS, TCP) differs from the first
    /// one's on the port cannot share its listener and is left out, as in Istio.
    static func listeners(for proxy: Proxy, in config: MeshConfig) -> [(bind: String, port: UInt32, servers: [GatewayServer])] {
        var order: [String] = []
        var groups: [String: (bind: String, port: UInt32, servers: [GatewayServer])] = [:]
        for gateway in gateways(for: proxy, in: config) {
            for (index, server) in gateway.spec.servers.enumerated() {
                let entry = GatewayServer(gateway: gateway, index: index, server: server)
                let key = "\(entry.bind)_\(entry.port)"
                if groups[key] == nil {
                    order.append(key)
                    groups[key] = (entry.bind, entry.port, [])
                }
                if let first = groups[key]!.servers.first, first.portClass != entry.portClass { continue }
                groups[key]!.servers.append(entry)
            }
        }
        return order.map { groups[$0]! }.sorted { ($0.port, $0.bind) < ($1.port, $1.bind) }
    }
}

/// Host name patterns as a gateway matches them.
enum GatewayHosts {
    /// The names both patterns match, as one pattern (the more specific of two overlapping
    /// hosts, as Istio's virtual host for a VirtualService host on a server host); nil when none.
    static func intersection(_ a: String, _ b: String) -> String? {
        if a == "*" { return b }
        if b == "*" { return a }
        switch (a.hasPrefix("*"), b.hasPrefix("*")) {
        case (false, false): return a == b ? a : nil
        case (true, false): return b.hasSuffix(a.dropFirst()) ? b : nil
        case (false, true): return a.hasSuffix(b.dropFirst()) ? a : nil
        case (true, true):
            let (longer, shorter) = a.count >= b.count ? (a, b) : (b, a)
            return longer.dropFirst().hasSuffix(shorter.dropFirst()) ? longer : nil
        }
    }
}
