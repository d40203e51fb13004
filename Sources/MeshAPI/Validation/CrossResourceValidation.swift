/// Checks that need the whole config set: resources defined twice, routes to subsets that the
/// host's DestinationRule does not define, and hosts that no ServiceEntry declares (only a
/// warning: Kubernetes services are not in the set).
enum CrossResourceValidation {
    static func validate(_ documents: [LoadedDocument]) {
        checkDuplicateKeys(documents)
        let rules = documents.compactMap { document -> (String, DestinationRule, LoadedDocument)? in
            guard case .destinationRule(let rule) = document.decoded.spec else { return nil }
            return (fqdn(rule.host, namespace: document.decoded.key.namespace), rule, document)
        }
        let registry = ServiceHosts(documents)
        for document in documents {
            switch document.decoded.spec {
            case .virtualService(let service):
                var warned: Set<String> = []
                for (path, destination) in destinations(of: service) {
                    let host = fqdn(destination.host, namespace: document.decoded.key.namespace)
                    if let subset = destination.subset {
                        checkSubset(subset, host: host, rules: rules, at: "\(path).subset", document.context)
                    }
                    if !registry.declares(host) && warned.insert(host).inserted {
                        document.context.warning("\(path).host", unknownHostMessage(host))
                    }
                }
            case .destinationRule(let rule):
                let host = fqdn(rule.host, namespace: document.decoded.key.namespace)
                if !HostName.isWildcard(host) && !registry.declares(host) {
                    document.context.warning("spec.host", unknownHostMessage(host))
                }
            default:
                break
            }
        }
    }

    private static func unknownHostMessage(_ host: String) -> String {
        "host \"\(host)\" is not declared by any ServiceEntry in this config (fine if it is a Kubernetes service)"
    }

    /// Every copy of a key is rejected: which one the user meant is a guess a server must not make.
    private static func checkDuplicateKeys(_ documents: [LoadedDocument]) {
        var first: [ResourceKey: LoadedDocument] = [:]
        for document in documents {
            let key = document.decoded.key
            if let original = first[key] {
                document.context.error(
                    "metadata.name",
                    "\(key) is defined more than once (first at \(original.decoded.source)); every copy is rejected")
                original.context.error(
                    "metadata.name", "\(key) is defined again at \(document.decoded.source); every copy is rejected")
            } else {
                first[key] = document
            }
        }
    }

    /// A subset must be defined by the DestinationRule for the host, when the set has one. Rules
    /// with errors of their own are not judged here: their own diagnostics come first.
    private static func checkSubset(
        _ subset: String, host: String, rules: [(String, DestinationRule, LoadedDocument)], at path: String,
        _ report: DocumentContext
    ) {
        var matching = rules.filter { $0.0 == host }
        if matching.isEmpty {
            matching = rules.filter { HostName.isWildcard($0.0) && HostName.isSubset(host, of: $0.0) }
        }
        guard !matching.isEmpty, !matching.contains(where: { $0.2.context.hasErrors }) else { return }
        if matching.contains(where: { $0.1.subset(named: subset) != nil }) { return }
        let names = matching.map { "\($0.2.decoded.key.namespace)/\($0.2.decoded.key.name)" }.joined(separator: ", ")
        let defined = Set(matching.flatMap { $0.1.subsets.map(\.name) }).sorted().joined(separator: ", ")
        report.error(
            path,
            "subset \"\(subset)\" is not defined by DestinationRule \(names) for host \(host) (defined: \(defined.isEmpty ? "none" : defined))")
    }

    /// Every destination a VirtualService sends traffic to, with its field path.
    private static func destinations(of service: VirtualService) -> [(String, Destination)] {
        var result: [(String, Destination)] = []
        for (index, route) in service.http.enumerated() {
            let path = "spec.http[\(index)]"
            for (destinationIndex, destination) in route.route.enumerated() {
                result.append(("\(path).route[\(destinationIndex)].destination", destination.destination))
            }
            if let mirror = route.mirror { result.append(("\(path).mirror", mirror)) }
            for (mirrorIndex, mirror) in route.mirrors.enumerated() {
                result.append(("\(path).mirrors[\(mirrorIndex)].destination", mirror.destination))
            }
        }
        for (kind, routes) in [("tcp", service.tcp.map(\.route)), ("tls", service.tls.map(\.route))] {
            for (index, route) in routes.enumerated() {
                for (destinationIndex, destination) in route.enumerated() {
                    result.append(("spec.\(kind)[\(index)].route[\(destinationIndex)].destination", destination.destination))
                }
            }
        }
        return result
    }
}

/// The hosts the set's ServiceEntries declare, exact and wildcard.
private struct ServiceHosts {
    private var exact: Set<String> = []
    private var wildcards: [String] = []

    init(_ documents: [LoadedDocument]) {
        for document in documents {
            guard case .serviceEntry(let entry) = document.decoded.spec else { continue }
            for host in entry.hosts {
                if HostName.isWildcard(host) {
                    wildcards.append(host)
                } else {
                    exact.insert(host)
                    exact.insert(fqdn(host, namespace: document.decoded.key.namespace))
                }
            }
        }
    }

    func declares(_ host: String) -> Bool {
        exact.contains(host) || wildcards.contains { HostName.isSubset(host, of: $0) }
    }
}
