/// Decodes Sidecar specs.
enum SidecarDecoder {
    static func decode(_ spec: ObjectReader) -> Sidecar {
        spec.notSupported("inboundConnectionPool")
        return Sidecar(
            workloadSelector: spec.object("workloadSelector") { ServiceEntryDecoder.labelSelector($0, key: "labels") },
            ingress: spec.objects("ingress", ingressListener),
            egress: spec.objects("egress", egressListener),
            outboundTrafficPolicy: spec.object("outboundTrafficPolicy") { policy in
                policy.notSupported("egressProxy")
                return Sidecar.OutboundTrafficPolicy(
                    mode: policy.enumeration("mode", Sidecar.OutboundTrafficPolicy.Mode.self) ?? .registryOnly)
            })
    }

    private static func ingressListener(_ reader: ObjectReader) -> IstioIngressListener? {
        reader.notSupported("tls", "connectionPool")
        let port = reader.required("port")?.object(sidecarPort)
        return port.map { port in
            IstioIngressListener(
                port: port, bind: reader.string("bind"),
                captureMode: reader.enumeration("captureMode", CaptureMode.self),
                defaultEndpoint: reader.string("defaultEndpoint"))
        }
    }

    private static func egressListener(_ reader: ObjectReader) -> IstioEgressListener? {
        IstioEgressListener(
            port: reader.object("port", sidecarPort), bind: reader.string("bind"),
            captureMode: reader.enumeration("captureMode", CaptureMode.self),
            hosts: reader.required("hosts")?.strings() ?? [])
    }

    private static func sidecarPort(_ reader: ObjectReader) -> SidecarPort? {
        SidecarPort(
            number: reader.uint32("number") ?? 0,
            protocol: reader.field("protocol").flatMap { ServiceEntryDecoder.portProtocol($0) } ?? .tcp,
            name: reader.string("name"), targetPort: reader.uint32("targetPort"))
    }
}
