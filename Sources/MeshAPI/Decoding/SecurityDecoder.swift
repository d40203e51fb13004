/// Decodes PeerAuthentication and AuthorizationPolicy specs.
enum SecurityDecoder {
    static func peerAuthentication(_ spec: ObjectReader) -> PeerAuthentication {
        spec.notSupported("targetRef", "targetRefs")
        let mode = PeerAuthentication.MutualTLS.Mode.self
        var policy = PeerAuthentication(
            selector: spec.object("selector") { ServiceEntryDecoder.labelSelector($0, key: "matchLabels") },
            mtls: spec.object("mtls") { PeerAuthentication.MutualTLS(mode: $0.enumeration("mode", mode) ?? .unset) })
        if let ports = spec.field("portLevelMtls") {
            if ports.isEmptyMapping {
                ports.error("Invalid value: {}: should have at least 1 properties; leave portLevelMtls out instead")
            }
            let modes = ports.map { key, cursor -> PeerAuthentication.MutualTLS.Mode? in
                let value = cursor.object { $0.enumeration("mode", mode) ?? .unset }
                guard let number = UInt32(key) else {
                    cursor.error("Invalid value: \"\(key)\": type conversion error from string to port number")
                    return nil
                }
                guard (1...65535).contains(number) else {
                    cursor.error("Invalid value: \(key): port must be between 1-65535")
                    return nil
                }
                return value
            }
            for (key, value) in modes { policy.portLevelMtls[UInt32(key)!] = value }
        }
        return policy
    }

    static func authorizationPolicy(_ spec: ObjectReader) -> AuthorizationPolicy {
        spec.notSupported("targetRef", "targetRefs")
        return AuthorizationPolicy(
            selector: spec.object("selector") { ServiceEntryDecoder.labelSelector($0, key: "matchLabels") },
            action: spec.enumeration("action", AuthorizationPolicy.Action.self) ?? .allow,
            provider: spec.object("provider") { AuthorizationPolicy.ExtensionProvider(name: $0.string("name") ?? "") },
            rules: spec.objects("rules", rule))
    }

    private static func rule(_ reader: ObjectReader) -> AuthorizationPolicy.Rule? {
        AuthorizationPolicy.Rule(
            from: nonEmptyList(reader, "from") { $0.required("source")?.object(source) },
            to: nonEmptyList(reader, "to") { $0.required("operation")?.object(operation) },
            when: reader.objects("when") { condition in
                AuthorizationPolicy.Condition(
                    key: condition.required("key")?.string() ?? "", values: condition.strings("values"),
                    notValues: condition.strings("notValues"))
            })
    }

    /// Istio rejects `from: []` and `to: []`: written but empty, they would silently match everything.
    private static func nonEmptyList<T>(_ reader: ObjectReader, _ name: String, _ decode: (ObjectReader) -> T?) -> [T] {
        guard let cursor = reader.field(name) else { return [] }
        if cursor.isEmptyList {
            cursor.error("`\(name)` must not be empty; leave it out to match any")
        }
        return cursor.list { $0.object(decode) }
    }

    private static func source(_ reader: ObjectReader) -> AuthorizationPolicy.Source? {
        var source = AuthorizationPolicy.Source()
        source.principals = reader.strings("principals")
        source.notPrincipals = reader.strings("notPrincipals")
        source.requestPrincipals = reader.strings("requestPrincipals")
        source.notRequestPrincipals = reader.strings("notRequestPrincipals")
        source.namespaces = reader.strings("namespaces")
        source.notNamespaces = reader.strings("notNamespaces")
        source.serviceAccounts = reader.strings("serviceAccounts")
        source.notServiceAccounts = reader.strings("notServiceAccounts")
        source.ipBlocks = reader.strings("ipBlocks")
        source.notIpBlocks = reader.strings("notIpBlocks")
        source.remoteIpBlocks = reader.strings("remoteIpBlocks")
        source.notRemoteIpBlocks = reader.strings("notRemoteIpBlocks")
        source.trustDomains = reader.strings("trustDomains")
        source.notTrustDomains = reader.strings("notTrustDomains")
        return source
    }

    private static func operation(_ reader: ObjectReader) -> AuthorizationPolicy.Operation? {
        var operation = AuthorizationPolicy.Operation()
        operation.hosts = reader.strings("hosts")
        operation.notHosts = reader.strings("notHosts")
        operation.ports = reader.strings("ports")
        operation.notPorts = reader.strings("notPorts")
        operation.methods = reader.strings("methods")
        operation.notMethods = reader.strings("notMethods")
        operation.paths = reader.strings("paths")
        operation.notPaths = reader.strings("notPaths")
        return operation
    }
}
