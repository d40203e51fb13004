import EnvoyAPI
import SwiftProtobuf
import MeshAPI
import XDSCache

/// One egress listener of the proxy's Sidecar (or the implicit `*/*` one): the services it
/// imports and where its listeners bind.
struct EgressScope {
    var services: [MeshService]
    var port: SidecarPort?
    var bind: String
    /// The application connects to the listener itself (no iptables): bind to the port.
    var explicit: Bool
    /// Under iptables with no `bind` of the Sidecar's own, a non-HTTP service port listens on
    /// the service's addresses, as in Istio (see `addListeners`).
    var bindsServiceAddresses: Bool
    /// `ADDRESS:PORT`s the proxy forwards inbound traffic to (its Sidecar's ingress
    /// `defaultEndpoint`s): the application listens there, so no outbound listener binds them.
    var applicationEndpoints: Set<String> = []

    static func scopes(for context: TranslationContext) -> [EgressScope] {
        let visible = context.visibleServices
        let proxyExplicit = context.proxy.interceptionMode == .none
        let applicationEndpoints = Set(context.sidecar?.spec.ingress.compactMap(\.defaultEndpoint) ?? [])
        guard let sidecar = context.sidecar, !sidecar.spec.egress.isEmpty else {
            return [
                EgressScope(
                    services: visible, port: nil, bind: defaultBind(explicit: proxyExplicit), explicit: proxyExplicit,
                    bindsServiceAddresses: !proxyExplicit, applicationEndpoints: applicationEndpoints)
            ]
        }
        // Listeners with a port come first so that they win over the catch-all one.
        let egress = sidecar.spec.egress.sorted { ($0.port != nil ? 0 : 1) < ($1.port != nil ? 0 : 1) }
        return egress.map { listener in
            let explicit = proxyExplicit || listener.captureMode == CaptureMode.none
            var imported = visible.filter {
                SidecarScope.imports(listener.hosts, sidecarNamespace: sidecar.namespace, service: $0)
            }
            // Istio keeps one service per host name, preferring the Sidecar's namespace.
            var seen: Set<String> = []
            imported.sort { ($0.namespace == sidecar.namespace ? 0 : 1) < ($1.namespace == sidecar.namespace ? 0 : 1) }
            imported = imported.filter { seen.insert($0.hostname).inserted }
            return EgressScope(
                services: imported.sorted { $0.hostname < $1.hostname }, port: listener.port,
                bind: listener.bind ?? defaultBind(explicit: explicit), explicit: explicit,
                bindsServiceAddresses: !explicit && listener.bind == nil, applicationEndpoints: applicationEndpoints)
        }
    }

    static func defaultBind(explicit: Bool) -> String {
        explicit ? "127.0.0.1" : "0.0.0.0"
    }

    /// One listener per port: HTTP ports route by Host through route configuration "PORT";
    /// TCP ports proxy to the services on that port (TCPRoutes). Under iptables a non-HTTP
    /// service with `addresses` gets a listener `ADDRESS_PORT` per IP address instead, which the
    /// virtual outbound listener picks by the connection's original destination, so TCP services
    /// sharing a port no longer collide; its CIDR addresses become destination ranges on the
    /// shared `0.0.0.0_PORT` listener. HTTP services stay on `0.0.0.0_PORT`, told apart by Host.
    func addListeners(context: TranslationContext, to resources: inout ResourceSet) {
        let ports = port.map { [$0.number] } ?? Set(services.flatMap { $0.ports.map(\.number) }).sorted()
        for port in ports {
            let onPort = services.filter { $0.port(port) != nil }
            guard !onPort.isEmpty else { continue }
            // A VM without iptables whose own service port is also its application's port: the
            // listener would take the application's socket (or fail to bind) and loop inbound
            // traffic back into Envoy; the application reaches that service some other way.
            if explicit && applicationEndpoints.contains("\(bind):\(port)") { continue }
            let isHTTP = self.port?.protocol.isHTTP ?? onPort.contains { $0.port(port)!.protocol.isHTTP }
            if isHTTP {
                let http = onPort.filter { $0.port(port)!.protocol.isHTTP }
                let routes = OutboundRoutes.routeConfiguration(port: port, services: http, context: context)
                if !resources.contains(.route, routes.name) {
                    resources.add(.route, routes.name, routes, references: ProxyTranslator.clusters(in: routes))
                }
                let listener = OutboundListeners.httpListener(port: port, bind: bind, bindToPort: explicit)
                resources.add(.listener, listener.name, listener)
            }
            let tcp = self.port.map { $0.protocol.isHTTP ? [] : onPort } ?? onPort.filter { !$0.port(port)!.protocol.isHTTP }
            let (byAddress, shared) = placement(of: tcp)
            for (address, members) in byAddress {
                let (listener, clusters) = TCPRoutes.listener(
                    port: port, bind: address, bindToPort: false, members: members, context: context)
                resources.add(.listener, listener.name, listener, references: clusters)
            }
            // An HTTP listener already holds BIND_PORT; Trellis does not sniff protocols to
            // share it with TCP services that have no address of their own.
            if !isHTTP && !shared.isEmpty {
                let (listener, clusters) = TCPRoutes.listener(
                    port: port, bind: bind, bindToPort: explicit, members: shared, context: context)
                resources.add(.listener, listener.name, listener, references: clusters)
            }
        }
    }

    /// Where each TCP service listens: on its IP addresses (Istio turns a `/32` or `/128` into
    /// the plain address), and on the scope's bind for its CIDR addresses (as destination
    /// ranges) or when it has none.
    private func placement(of services: [MeshService]) -> (byAddress: [(String, [TCPRoutes.Member])], shared: [TCPRoutes.Member]) {
        var byAddress: [(String, [TCPRoutes.Member])] = []
        var shared: [TCPRoutes.Member] = []
        for service in services {
            let addresses = bindsServiceAddresses ? service.addresses : []
            var ranges: [String] = []
            for address in addresses {
                if let host = Self.hostAddress(address) {
                    if let index = byAddress.firstIndex(where: { $0.0 == host }) {
                        byAddress[index].1.append(TCPRoutes.Member(service: service))
                    } else {
                        byAddress.append((host, [TCPRoutes.Member(service: service)]))
                    }
                } else {
                    ranges.append(address)
                }
            }
            if addresses.isEmpty || !ranges.isEmpty {
                shared.append(TCPRoutes.Member(service: service, destinationRanges: ranges))
            }
        }
        return (byAddress, shared)
    }

    /// The single address a ServiceEntry address stands for, or nil for a CIDR block.
    static func hostAddress(_ address: String) -> String? {
        let parts = address.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return address }
        let fullLength = parts[0].contains(":") ? "128" : "32"
        return parts[1] == fullLength ? parts[0] : nil
    }
}
