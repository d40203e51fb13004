/// The protocol of a port, as Istio names it (`protocol.Parse`). Names are case-insensitive in
/// YAML; the raw value is Istio's canonical spelling. Only the `protocol` field decides the
/// protocol: a port name like `http-web` does not.
public enum PortProtocol: String, Sendable, CaseIterable, Hashable {
    case http = "HTTP"
    case http2 = "HTTP2"
    case httpProxy = "HTTP_PROXY"
    case grpc = "GRPC"
    case grpcWeb = "GRPC-Web"
    case tcp = "TCP"
    case udp = "UDP"
    case tls = "TLS"
    case https = "HTTPS"
    case mongo = "Mongo"
    case mysql = "MySQL"
    case redis = "Redis"

    /// Reads Istio's protocol name, ignoring case; nil for names Istio does not know.
    public init?(istioName: String) {
        let lowered = istioName.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
        self = match
    }

    /// Served by Envoy's HTTP connection manager (Istio's `IsHTTP`).
    public var isHTTP: Bool {
        switch self {
        case .http, .http2, .httpProxy, .grpc, .grpcWeb: true
        default: false
        }
    }

    /// Needs HTTP/2 to the upstream (Istio's `IsHTTP2`).
    public var isHTTP2: Bool {
        switch self {
        case .http2, .grpc, .grpcWeb: true
        default: false
        }
    }

    /// TLS that the proxy does not terminate on its own (Istio's `IsTLS`): HTTPS and TLS.
    public var isTLS: Bool { self == .https || self == .tls }

    /// Proxied as a TCP stream (Istio's `IsTCP`).
    public var isTCP: Bool {
        switch self {
        case .tcp, .https, .tls, .mongo, .redis, .mysql: true
        default: false
        }
    }
}
