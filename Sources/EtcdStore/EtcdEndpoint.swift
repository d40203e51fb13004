import GRPCNIOTransportHTTP2

/// One etcd member's client URL, `HOST:PORT` (plaintext gRPC over HTTP/2).
public struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`, `[IPV6]:PORT`.
    public init(_ hostAndPort: String) throws {
        let invalid = EtcdStoreConfigurationError("\(hostAndPort.debugDescription) is not HOST:PORT")
        guard let colon = hostAndPort.lastIndex(of: ":"),
            let port = Int(hostAndPort[hostAndPort.index(after: colon)...]), (1...65535).contains(port)
        else { throw invalid }
        var host = String(hostAndPort[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw invalid  // an IPv6 address needs brackets
        }
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == "@" || $0.isWhitespace }) else { throw invalid }
        self.init(host: host, port: port)
    }

    /// The members of `etcd://HOST:PORT[,HOST:PORT...]`.
    public static func parse(url: String) throws -> [EtcdEndpoint] {
        let scheme = "etcd://"
        guard url.hasPrefix(scheme) else {
            throw EtcdStoreConfigurationError("\(url.debugDescription) does not start with \(scheme)")
        }
        let members = try url.dropFirst(scheme.count).split(separator: ",", omittingEmptySubsequences: false)
            .map { try EtcdEndpoint(String($0)) }
        guard Set(members).count == members.count else {
            throw EtcdStoreConfigurationError("\(url.debugDescription) names a member twice")
        }
        return members
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// An IP literal connects as is; a name is resolved by DNS on every connect.
    var target: any ResolvableTarget {
        if host.contains(":") { return .ipv6(address: host, port: port) }
        if Self.isIPv4(host) { return .ipv4(address: host, port: port) }
        return .dns(host: host, port: port)
    }

    private static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber } && UInt8(part) != nil
        }
    }
}

/// A store configuration that cannot work (a malformed endpoint or namespace).
public struct EtcdStoreConfigurationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
