/// `networking.istio.io` VirtualService: routing rules for traffic addressed to `hosts`.
/// Rules apply in order; the first match wins.
public struct VirtualService: Sendable, Equatable {
    public var hosts: [String]
    /// Gateways (`namespace/name`, or `mesh` for sidecars) the rules apply to; empty means `mesh`.
    public var gateways: [String]
    public var http: [HTTPRoute]
    public var tls: [TLSRoute]
    public var tcp: [TCPRoute]
    public var exportTo: [String]

    public init(
        hosts: [String] = [], gateways: [String] = [], http: [HTTPRoute] = [], tls: [TLSRoute] = [],
        tcp: [TCPRoute] = [], exportTo: [String] = []
    ) {
        self.hosts = hosts
        self.gateways = gateways
        self.http = http
        self.tls = tls
        self.tcp = tcp
        self.exportTo = exportTo
    }
}

/// A service (and optionally a subset and port of it) that traffic is sent to.
public struct Destination: Sendable, Equatable {
    /// A registry host; short names resolve in the rule's namespace (see `fqdn`).
    public var host: String
    public var subset: String?
    /// The `port.number` of the YAML; nil means the port the traffic arrived on.
    public var port: UInt32?

    public init(host: String, subset: String? = nil, port: UInt32? = nil) {
        self.host = host
        self.subset = subset
        self.port = port
    }
}

/// A weighted destination of a TCP or TLS route. Weights are relative shares.
public struct RouteDestination: Sendable, Equatable {
    public var destination: Destination
    public var weight: Int32

    public init(destination: Destination, weight: Int32 = 0) {
        self.destination = destination
        self.weight = weight
    }
}

/// A route for opaque TCP traffic.
public struct TCPRoute: Sendable, Equatable {
    public var match: [L4MatchAttributes]
    public var route: [RouteDestination]

    public init(match: [L4MatchAttributes] = [], route: [RouteDestination] = []) {
        self.match = match
        self.route = route
    }
}

/// Conditions on a TCP connection; all set fields must hold.
public struct L4MatchAttributes: Sendable, Equatable {
    public var destinationSubnets: [String]
    public var port: UInt32?
    public var sourceLabels: [String: String]
    public var gateways: [String]
    public var sourceNamespace: String?

    public init(
        destinationSubnets: [String] = [], port: UInt32? = nil, sourceLabels: [String: String] = [:],
        gateways: [String] = [], sourceNamespace: String? = nil
    ) {
        self.destinationSubnets = destinationSubnets
        self.port = port
        self.sourceLabels = sourceLabels
        self.gateways = gateways
        self.sourceNamespace = sourceNamespace
    }
}

/// A route for TLS traffic the proxy passes through, chosen by SNI.
public struct TLSRoute: Sendable, Equatable {
    public var match: [TLSMatchAttributes]
    public var route: [RouteDestination]

    public init(match: [TLSMatchAttributes] = [], route: [RouteDestination] = []) {
        self.match = match
        self.route = route
    }
}

/// Conditions on a TLS connection; all set fields must hold.
public struct TLSMatchAttributes: Sendable, Equatable {
    public var sniHosts: [String]
    public var destinationSubnets: [String]
    public var port: UInt32?
    public var sourceLabels: [String: String]
    public var gateways: [String]
    public var sourceNamespace: String?

    public init(
        sniHosts: [String] = [], destinationSubnets: [String] = [], port: UInt32? = nil,
        sourceLabels: [String: String] = [:], gateways: [String] = [], sourceNamespace: String? = nil
    ) {
        self.sniHosts = sniHosts
        self.destinationSubnets = destinationSubnets
        self.port = port
        self.sourceLabels = sourceLabels
        self.gateways = gateways
        self.sourceNamespace = sourceNamespace
    }
}
