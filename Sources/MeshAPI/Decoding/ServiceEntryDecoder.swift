/// Decodes ServiceEntry specs and the port and selector shapes other kinds share.
enum ServiceEntryDecoder {
    static func decode(_ spec: ObjectReader) -> ServiceEntry? {
        var entry = ServiceEntry()
        entry.hosts = spec.strings("hosts")
        entry.addresses = spec.strings("addresses")
        entry.ports = spec.objects("ports", servicePort)
        entry.location = spec.enumeration("location", ServiceEntry.Location.self) ?? .meshExternal
        if let cursor = spec.field("resolution"), let text = cursor.string() {
            if text == "DYNAMIC_DNS" {
                cursor.error("not supported yet: resolution DYNAMIC_DNS; use DNS with explicit hosts")
            } else {
                entry.resolution = cursor.enumeration(ServiceEntry.Resolution.self) ?? .none
            }
        }
        entry.endpoints = spec.objects("endpoints") { WorkloadDecoder.workloadEntry($0) }
        entry.workloadSelector = spec.object("workloadSelector") { labelSelector($0, key: "labels") }
        entry.exportTo = spec.strings("exportTo")
        entry.subjectAltNames = spec.strings("subjectAltNames")
        return entry
    }

    static func servicePort(_ reader: ObjectReader) -> ServicePort? {
        let number = reader.required("number")?.uint32()
        let name = reader.required("name")?.string()
        let proto = reader.field("protocol").flatMap { portProtocol($0) }
        let targetPort = reader.uint32("targetPort")
        return ServicePort(number: number ?? 0, protocol: proto ?? .tcp, name: name ?? "", targetPort: targetPort)
    }

    /// Istio's protocol names, case-insensitive. An empty name means "unset" (Istio sniffs
    /// the protocol), except where a protocol is required.
    static func portProtocol(_ cursor: YAMLCursor, required: Bool = false) -> PortProtocol? {
        guard let text = cursor.string() else { return nil }
        if text.isEmpty && !required { return nil }
        guard let value = PortProtocol(istioName: text) else {
            let names = PortProtocol.allCases.map(\.rawValue).joined(separator: ", ")
            cursor.error("Unsupported value: \"\(text)\": unrecognized protocol; supported (any case): \(names)")
            return nil
        }
        return value
    }

    /// A selector object whose only field is a label map, named `labels` (ServiceEntry,
    /// Sidecar) or `matchLabels` (DestinationRule, security kinds).
    static func labelSelector(_ reader: ObjectReader, key: String) -> WorkloadSelector {
        WorkloadSelector(labels: reader.stringMap(key))
    }
}
