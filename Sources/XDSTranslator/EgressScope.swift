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

    static func scopes(for context: TranslationContext) -> [EgressScope] {
        let visible = context.visibleServices
        let proxyExplicit = context.proxy.interceptionMode == .none
        guard let sidecar = context.sidecar, !sidecar.spec.egress.isEmpty else {
            return [EgressScope(services: visible, port: nil, bind: defaultBind(explicit: proxyExplicit), explicit: proxyExplicit)]
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
                bind: listener.bind ?? defaultBind(explicit: explicit), explicit: explicit)
        }
    }

    static func defaultBind(explicit: Bool) -> String {
        explicit ? "127.0.0.1" : "0.0.0.0"
    }

    /// One listener per port: HTTP ports route by Host through route configuration "PORT";
    /// TCP ports proxy to the one service on that port.
    func addListeners(context: TranslationContext, to resources: inout ResourceSet) {
        let ports = port.map { [$0.number] } ?? Set(services.flatMap { $0.ports.map(\.number) }).sorted()
        for port in ports {
            let onPort = services.filter { $0.port(port) != nil }
            guard !onPort.isEmpty else { continue }
            let isHTTP = self.port?.protocol.isHTTP ?? onPort.contains { $0.port(port)!.protocol.isHTTP }
            if isHTTP {
                let http = onPort.filter { $0.port(port)!.protocol.isHTTP }
                let routes = OutboundRoutes.routeConfiguration(port: port, services: http, context: context)
                if !resources.contains(.route, routes.name) {
                    resources.add(.route, routes.name, routes, references: ProxyTranslator.clusters(in: routes))
                }
                let listener = OutboundListeners.httpListener(port: port, bind: bind, bindToPort: explicit)
                resources.add(.listener, listener.name, listener)
            } else {
                let (listener, clusters) = TCPRoutes.listener(
                    port: port, bind: bind, bindToPort: explicit, services: onPort, context: context)
                resources.add(.listener, listener.name, listener, references: clusters)
            }
        }
    }
}
