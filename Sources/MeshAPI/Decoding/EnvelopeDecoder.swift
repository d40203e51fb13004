import Yams

/// Reads the Kubernetes envelope of a document (`apiVersion`, `kind`, `metadata`) and hands
/// `spec` to the decoder of its kind.
enum EnvelopeDecoder {
    /// Metadata fields Kubernetes manages; present in `kubectl get -o yaml` output, meaningless here.
    private static let managedMetadata = [
        "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "managedFields", "ownerReferences", "finalizers", "generateName", "selfLink",
    ]

    /// Kinds that need a `spec` (Istio's CRDs mark it required); the others treat a missing spec as `{}`.
    private static let specRequired: Set<ResourceKind> = [.serviceEntry, .workloadEntry, .workloadGroup]

    static func decode(_ root: YAMLCursor) -> DecodedDocument? {
        let context = root.context
        return root.object { top -> DecodedDocument? in
            top.ignore("status")
            guard let kind = resolveKind(top) else {
                // Not an Istio resource we read: one error says so; its fields are not ours to judge.
                top.ignore(contentsOf: top.keys)
                return nil
            }
            let metadata = top.required("metadata")?.object { decodeMetadata($0) }
            if let metadata {
                context.key = ResourceKey(kind: kind, namespace: metadata.namespace, name: metadata.name)
            }
            guard let metadata, let key = context.key else {
                top.ignore("spec", "type", "data", "stringData", "immutable")
                return nil
            }
            if kind == .secret {
                // A core Secret has no spec: its contents are top-level fields.
                let decoded = SecretDecoder.decode(top)
                return DecodedDocument(
                    key: key, labels: metadata.labels, annotations: metadata.annotations,
                    spec: .secret(decoded.secret, fields: decoded.paths),
                    source: SourceLocation(file: context.file, line: root.line))
            }
            let specCursor: YAMLCursor
            if specRequired.contains(kind) {
                guard let required = top.required("spec") else { return nil }
                specCursor = required
            } else {
                specCursor =
                    top.field("spec")
                    ?? YAMLCursor(node: Node([(Node, Node)]()), path: "spec", line: root.line, context: context)
            }
            guard let spec = specCursor.object({ decodeSpec(kind, $0) }) else { return nil }
            return DecodedDocument(
                key: key, labels: metadata.labels, annotations: metadata.annotations, spec: spec,
                source: SourceLocation(file: context.file, line: root.line))
        }
    }

    /// The kind, when `kind` names one Trellis reads in its API group. A known kind in another
    /// group (Gateway API's `Gateway`) is another resource altogether, so it gets no key; a
    /// known group with an unknown version is still this resource, wrongly written.
    private static func resolveKind(_ top: ObjectReader) -> ResourceKind? {
        let apiVersionCursor = top.required("apiVersion")
        let kindCursor = top.required("kind")
        guard let apiVersionCursor, let kindCursor, let apiVersion = apiVersionCursor.string(),
            let kindText = kindCursor.string()
        else { return nil }
        guard let kind = ResourceKind(rawValue: kindText) else {
            let supported = ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")
            kindCursor.error("unsupported kind \"\(kindText)\" (apiVersion \(apiVersion)): Trellis reads \(supported)")
            return nil
        }
        if kind.group.isEmpty {
            // The core API group: `apiVersion: v1`, no group part.
            if !kind.versions.contains(apiVersion) {
                apiVersionCursor.error("unsupported apiVersion \"\(apiVersion)\" for kind \(kind.rawValue): expected v1")
            }
            return kind
        }
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let expected = "expected one of " + kind.versions.map { "\(kind.group)/\($0)" }.joined(separator: ", ")
        guard parts.count == 2, parts[0] == kind.group else {
            apiVersionCursor.error("unsupported apiVersion \"\(apiVersion)\" for kind \(kind.rawValue): \(expected)")
            return nil
        }
        if !kind.versions.contains(parts[1]) {
            apiVersionCursor.error("unsupported apiVersion \"\(apiVersion)\" for kind \(kind.rawValue): \(expected)")
        }
        return kind
    }

    private struct Metadata {
        var name: String
        var namespace: String
        var labels: [String: String]
        var annotations: [String: String]
    }

    private static func decodeMetadata(_ reader: ObjectReader) -> Metadata? {
        for name in managedMetadata { reader.ignore(name) }
        let nameCursor = reader.required("name")
        let name = nameCursor?.string()
        if let name, let nameCursor, let problem = Names.kubernetesNameProblem(name) {
            nameCursor.error("Invalid value: \"\(name)\": \(problem)")
        }
        let namespaceCursor = reader.field("namespace")
        let namespace = namespaceCursor?.string() ?? "default"
        if let namespaceCursor, !Names.isDNS1123Label(namespace) || namespace.contains(where: \.isUppercase) {
            namespaceCursor.error(
                "Invalid value: \"\(namespace)\": a namespace must be a lower-case RFC 1123 label")
        }
        let labelsCursor = reader.field("labels")
        let labels = labelsCursor?.stringMap() ?? [:]
        if let labelsCursor {
            for problem in Labels.problems(labels) { labelsCursor.error(problem) }
        }
        let annotations = reader.stringMap("annotations")
        guard let name else { return nil }
        return Metadata(name: name, namespace: namespace, labels: labels, annotations: annotations)
    }

    private static func decodeSpec(_ kind: ResourceKind, _ spec: ObjectReader) -> AnySpec? {
        switch kind {
        case .serviceEntry: ServiceEntryDecoder.decode(spec).map(AnySpec.serviceEntry)
        case .workloadEntry: .workloadEntry(WorkloadDecoder.workloadEntry(spec))
        case .workloadGroup: WorkloadDecoder.workloadGroup(spec).map(AnySpec.workloadGroup)
        case .virtualService: .virtualService(VirtualServiceDecoder.decode(spec))
        case .destinationRule: DestinationRuleDecoder.decode(spec).map(AnySpec.destinationRule)
        case .gateway: .gateway(GatewayDecoder.decode(spec))
        case .sidecar: .sidecar(SidecarDecoder.decode(spec))
        case .peerAuthentication: .peerAuthentication(SecurityDecoder.peerAuthentication(spec))
        case .authorizationPolicy: .authorizationPolicy(SecurityDecoder.authorizationPolicy(spec))
        case .secret: nil  // decoded from the top level, never here
        }
    }
}
