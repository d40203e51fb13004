/// A `HOST:PORT` flag value such as `127.0.0.1:15010`.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(ControlPlaneError) {
        guard let colon = text.lastIndex(of: ":") else { throw .invalidAddress(text) }
        let host = String(text[..<colon])
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { throw .invalidAddress(text) }
        self.init(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}
