/// Checks that need the whole config set (one definition per key): routes to subsets that the
/// host's DestinationRule does not define, and hosts that no ServiceEntry declares (only a
/// warning: Kubernetes services are not in the set).
enum CrossResourceValidation {
    static func validate(_ documents: [LoadedDocument]) {
        let rules = RulesByHost(documents)
        let registry = ServiceHosts(documents)
        for document in documents {
            switch document.decoded.spec {
            case .virtualService(let service):
                var warned: Set<String> = []
                for (path, destination) in destinations(of: service) where !destination.host.isEmpty {
                    let host = fqdn(destination.host, namespace: document.decoded.key.namespace)
                    if let subset = destination.subset {
                        checkSubset(subset, host: host, rules: rules, at: "\(path).subset", document.context)
                    }
                    if !registry.declares(host) && warned.insert(host).inserted {
                        document.context.warning("\(path).host", unknownHostMessage(host))
                    }
                }
            case .destinationRule(let rule) where !rule.host.isEmpty:
                let host = fqdn(rule.host, namespace: document.decoded.key.namespace)
                if !HostName.isWildcard(host) && !registry.declares(host) {
                    document.context.warning("spec.host", unknownHostMessage(host))
                }
            case .workloadEntry(let entry):
                WorkloadSelectionChecks.check(entry, document, in: documents)
            default:
                break
            }
        }
        GatewayReferenceChecks.check(documents)
    }

    private static func unknownHostMessage(_ host: String) -> String {
        "host \"\(host)\" is not declared by any ServiceEntry in this config (fine if it is a Kubernetes service)"
    }

    /// A subset must be defined by the DestinationRule for the host, when the set has one. Rules
    /// with errors of their own are not judged here: their own diagnostics come first.
    private static func checkSubset(
        _ subset: String, host: String, rules: RulesByHost, at path: String, _ report: DocumentContext
    ) {
        let matching = rules.rules(for: host)
        guard !matching.isEmpty, !matching.contains(where: { $0.document.context.hasErrors }) else { return }
        if matching.contains(where: { $0.rule.subset(named: subset) != nil }) { return }
        let names = matching.map { "\($0.document.decoded.key.namespace)/\($0.document.decoded.key.name)" }
            .joined(separator: ", ")
        let defined = Set(matching.flatMap { $0.rule.subsets.map(\.name) }).sorted().joined(separator: ", ")
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

/// The set's DestinationRules by the fully qualified host they apply to.
private struct RulesByHost {
    typealias Entry = (rule: DestinationRule, document: LoadedDocument)
    private var exact: [String: [Entry]] = [:]
    private var wildcards: [(host: String, entry: Entry)] = []

    init(_ documents: [LoadedDocument]) {
        for document in documents {
            guard case .destinationRule(let rule) = document.decoded.spec, !rule.host.isEmpty else { continue }
            let host = fqdn(rule.host, namespace: document.decoded.key.namespace)
            if HostName.isWildcard(host) {
                wildcards.append((host, (rule, document)))
            } else {
                exact[host, default: []].append((rule, document))
            }
        }
    }

    /// The rules for exactly `host`, else those whose wildcard covers it (Istio picks the most
    /// specific rule).
    func rules(for host: String) -> [Entry] {
        if let rules = exact[host] { return rules }
        return wildcards.filter { HostName.isSubset(host, of: $0.host) }.map(\.entry)
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
