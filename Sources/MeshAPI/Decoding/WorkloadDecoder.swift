/// Decodes WorkloadEntry and WorkloadGroup specs.
enum WorkloadDecoder {
    static func workloadEntry(_ reader: ObjectReader) -> WorkloadEntry {
        WorkloadEntry(
            address: reader.string("address") ?? "",
            ports: reader.field("ports")?.map { $1.uint32() } ?? [:],
            labels: reader.stringMap("labels"),
            network: reader.string("network"),
            locality: reader.string("locality"),
            weight: reader.uint32("weight"),
            serviceAccount: reader.string("serviceAccount"))
    }

    static func workloadGroup(_ spec: ObjectReader) -> WorkloadGroup? {
        let metadata = spec.object("metadata") { reader in
            WorkloadGroup.ObjectMeta(labels: reader.stringMap("labels"), annotations: reader.stringMap("annotations"))
        }
        let template = spec.required("template")?.object { workloadEntry($0) }
        let probe = spec.object("probe", readinessProbe)
        return WorkloadGroup(metadata: metadata, template: template ?? WorkloadEntry(), probe: probe)
    }

    private static func readinessProbe(_ reader: ObjectReader) -> ReadinessProbe? {
        func seconds(_ name: String) -> Int32? {
            reader.field(name)?.integer(in: 0...Int64(Int32.max)).map { Int32($0) }
        }
        var probe = ReadinessProbe(
            initialDelaySeconds: seconds("initialDelaySeconds"), timeoutSeconds: seconds("timeoutSeconds"),
            periodSeconds: seconds("periodSeconds"), successThreshold: seconds("successThreshold"),
            failureThreshold: seconds("failureThreshold"))
        var methods: [ReadinessProbe.Method] = []
        if let http = reader.object("httpGet", httpGet) { methods.append(.httpGet(http)) }
        if let tcp = reader.object("tcpSocket", tcpSocket) { methods.append(.tcpSocket(tcp)) }
        if let exec = reader.object("exec", { ReadinessProbe.Method.exec(command: $0.required("command")?.strings() ?? []) }) {
            methods.append(exec)
        }
        if let grpc = reader.object("grpc", { ReadinessProbe.GRPC(port: $0.uint32("port") ?? 0, service: $0.string("service")) }) {
            methods.append(.grpc(grpc))
        }
        if methods.count > 1 {
            reader.context.error(reader.path, line: reader.cursor.line, "only one of httpGet, tcpSocket, exec or grpc may be set")
        }
        probe.method = methods.first
        return probe
    }

    private static func httpGet(_ reader: ObjectReader) -> ReadinessProbe.HTTPGet? {
        ReadinessProbe.HTTPGet(
            path: reader.string("path"),
            port: reader.required("port")?.uint32() ?? 0,
            host: reader.string("host"),
            scheme: reader.string("scheme"),
            httpHeaders: reader.objects("httpHeaders") { header in
                ReadinessProbe.Header(name: header.string("name") ?? "", value: header.string("value") ?? "")
            })
    }

    private static func tcpSocket(_ reader: ObjectReader) -> ReadinessProbe.TCPSocket? {
        ReadinessProbe.TCPSocket(host: reader.string("host"), port: reader.required("port")?.uint32() ?? 0)
    }
}
