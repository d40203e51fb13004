/// Checks between Gateways, the Secrets their servers name and the VirtualServices bound to
/// them. All are warnings, as in `istioctl analyze` (Istio's API server accepts each resource
/// on its own): the resources stay served, and what cannot work is left out at translation.
/// - a `credentialName` with no usable Secret in the Gateway's namespace (the server then serves
///   no TLS: its filter chain is left out, fail closed);
/// - the same host on the same port in two servers of Gateways with the same selector (the
///   first, in namespace/name and server order, keeps it; Istio's ConflictingGateways);
/// - a VirtualService bound to a Gateway that does not exist (Istio's ReferencedResourceNotFound).
enum GatewayReferenceChecks {
    static func check(_ documents: [LoadedDocument]) {
        var secrets: [String: (Secret, LoadedDocument)] = [:]
        var gateways: [(key: ResourceKey, gateway: Gateway, document: LoadedDocument)] = []
        for document in documents {
            switch document.decoded.spec {
            case .secret(let secret, _): secrets["\(document.decoded.key.namespace)/\(document.decoded.key.name)"] = (secret, document)
            case .gateway(let gateway): gateways.append((document.decoded.key, gateway, document))
            default: break
            }
        }
        gateways.sort { $0.key < $1.key }
        for entry in gateways {
            checkCredentials(entry.gateway, namespace: entry.key.namespace, secrets: secrets, entry.document.context)
        }
        checkDuplicateHosts(gateways.map { ($0.key, $0.gateway, $0.document.context) })
        let names = Set(gateways.map { "\($0.key.namespace)/\($0.key.name)" })
        for document in documents {
            guard case .virtualService(let service) = document.decoded.spec else { continue }
            checkBindings(service, namespace: document.decoded.key.namespace, gateways: names, document.context)
        }
    }

    private static func checkCredentials(
        _ gateway: Gateway, namespace: String, secrets: [String: (Secret, LoadedDocument)], _ report: DocumentContext
    ) {
        for (index, server) in gateway.servers.enumerated() {
            guard let tls = server.tls, let name = tls.credentialName,
                [.simple, .mutual, .optionalMutual].contains(tls.mode)
            else { continue }
            let path = "spec.servers[\(index)].tls.credentialName"
            let consequence = "this server serves no TLS (its connections are refused) until it is"
            guard let (secret, document) = secrets["\(namespace)/\(name)"] else {
                report.warning(
                    path, "Secret \(namespace)/\(name) not found (it must be in the gateway's namespace); \(consequence) there")
                continue
            }
            if document.context.hasErrors {
                report.warning(path, "Secret \(namespace)/\(name) is invalid (see its errors); \(consequence) fixed")
            } else if !secret.hasCertificate {
                report.warning(path, "Secret \(namespace)/\(name) holds no certificate and key; \(consequence) fixed")
            } else if tls.mode != .simple && secret.caCertificatesPEM == nil && secrets["\(namespace)/\(name)-cacert"] == nil {
                report.warning(
                    path,
                    "\(tls.mode.rawValue) needs a client CA: neither Secret \(namespace)/\(name) (ca.crt or cacert) nor "
                        + "\(namespace)/\(name)-cacert has one; \(consequence) fixed")
            }
        }
    }

    /// A host served twice on one port by gateways that select the same proxies.
    private static func checkDuplicateHosts(_ gateways: [(ResourceKey, Gateway, DocumentContext)]) {
        var owners: [String: String] = [:]
        for (key, gateway, report) in gateways {
            let selector = gateway.selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            for (serverIndex, server) in gateway.servers.enumerated() {
                for (hostIndex, host) in server.hosts.enumerated() {
                    let bare = host.split(separator: "/", maxSplits: 1).last.map(String.init) ?? host
                    let slot = "\(selector)|\(server.bind ?? "")|\(server.port.number)|\(bare)"
                    let here = "\(key) spec.servers[\(serverIndex)]"
                    if let owner = owners[slot] {
                        report.warning(
                            "spec.servers[\(serverIndex)].hosts[\(hostIndex)]",
                            "host \(bare) on port \(server.port.number) is already served by \(owner) for the same "
                                + "gateway selector; the first one keeps it")
                    } else {
                        owners[slot] = here
                    }
                }
            }
        }
    }

    private static func checkBindings(_ service: VirtualService, namespace: String, gateways: Set<String>, _ report: DocumentContext) {
        var bindings: [(String, String)] = service.gateways.enumerated().map { ("spec.gateways[\($0.offset)]", $0.element) }
        for (routeIndex, route) in service.http.enumerated() {
            for (matchIndex, match) in route.match.enumerated() {
                bindings += match.gateways.enumerated().map {
                    ("spec.http[\(routeIndex)].match[\(matchIndex)].gateways[\($0.offset)]", $0.element)
                }
            }
        }
        for (path, name) in bindings where name != "mesh" {
            let qualified = GatewayNames.qualified(name, namespace: namespace)
            if !gateways.contains(qualified) {
                report.warning(
                    path,
                    "Gateway \(qualified) not found in this config; the VirtualService is still served for its other bindings")
            }
        }
    }
}

/// How a VirtualService names a Gateway: `NAMESPACE/NAME`, or `NAME` in the VirtualService's
/// own namespace.
public enum GatewayNames {
    public static func qualified(_ name: String, namespace: String) -> String {
        name.contains("/") ? name : "\(namespace)/\(name)"
    }
}
