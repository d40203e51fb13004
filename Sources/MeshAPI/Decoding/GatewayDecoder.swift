/// Decodes Gateway specs.
enum GatewayDecoder {
    static func decode(_ spec: ObjectReader) -> Gateway {
        Gateway(selector: spec.stringMap("selector"), servers: spec.objects("servers", server))
    }

    private static func server(_ reader: ObjectReader) -> Gateway.Server? {
        reader.notSupported("defaultEndpoint")
        let port = reader.required("port")?.object(port)
        let hosts = reader.required("hosts")?.strings() ?? []
        return port.map { port in
            Gateway.Server(
                port: port, bind: reader.string("bind"), hosts: hosts, tls: reader.object("tls", serverTLS),
                name: reader.string("name"))
        }
    }

    private static func port(_ reader: ObjectReader) -> Port? {
        let number = reader.required("number")?.uint32()
        let proto = reader.required("protocol").flatMap { ServiceEntryDecoder.portProtocol($0, required: true) }
        let name = reader.required("name")?.string()
        let targetPort = reader.uint32("targetPort")
        guard let number, let proto, let name else { return nil }
        return Port(number: number, protocol: proto, name: name, targetPort: targetPort)
    }

    static func serverTLS(_ reader: ObjectReader) -> ServerTLSSettings? {
        reader.notSupported(
            "caCertCredentialName", "caCrl", "credentialNames", "ecdhCurves", "insecureSkipVerify",
            "tlsCertificates", "verifyCertificateHash", "verifyCertificateSpki")
        let version = ServerTLSSettings.ProtocolVersion.self
        return ServerTLSSettings(
            httpsRedirect: reader.bool("httpsRedirect"),
            mode: reader.enumeration("mode", ServerTLSSettings.Mode.self) ?? .passthrough,
            credentialName: reader.string("credentialName"),
            serverCertificate: reader.string("serverCertificate"),
            privateKey: reader.string("privateKey"),
            caCertificates: reader.string("caCertificates"),
            subjectAltNames: reader.strings("subjectAltNames"),
            minProtocolVersion: reader.enumeration("minProtocolVersion", version),
            maxProtocolVersion: reader.enumeration("maxProtocolVersion", version),
            cipherSuites: reader.strings("cipherSuites"))
    }
}
