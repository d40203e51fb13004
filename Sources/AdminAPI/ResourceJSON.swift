import ConfigStore
import Foundation
import MeshAPI
import Yams

/// The JSON bodies of the admin API's answers, shaped as Kubernetes shapes them.
enum ResourceJSON {
    typealias Node = Yams.Node

    /// A stored resource with its `resourceVersion` and `creationTimestamp`.
    static func node(_ resource: StoredResource) throws -> Node {
        try ConfigDocuments.annotated(
            resource.document, resourceVersion: String(resource.modRevision),
            createdAt: resource.createdAt.formatted(.iso8601))
    }

    /// `KINDList` with the store revision it was read at.
    static func list(_ items: [Node], kind: ResourceKind, revision: StoreRevision) -> String {
        let rendered = items.map { "    " + ConfigDocuments.json($0, indent: "    ") }.joined(separator: ",\n")
        return """
            {
              "apiVersion": "\(kind.apiVersion)",
              "kind": "\(kind.rawValue)List",
              "metadata": {"resourceVersion": "\(revision)"},
              "items": [\(items.isEmpty ? "" : "\n" + rendered + "\n  ")]
            }

            """
    }

    /// What `POST /api/apply` did to each resource, and the warnings of the documents.
    static func applyResult(_ result: MeshResources.ApplyResult, dryRun: Bool) -> String {
        let results = result.outcomes.map { outcome in
            let key = outcome.resource.key
            return "    {\"kind\": \"\(key.kind.rawValue)\", \"namespace\": \(ConfigDocuments.jsonString(key.namespace)), "
                + "\"name\": \(ConfigDocuments.jsonString(key.name)), \"action\": \"\(outcome.action.rawValue)\", "
                + "\"resourceVersion\": \"\(outcome.resource.modRevision)\"}"
        }
        let warnings = result.warnings.map { "    " + ConfigDocuments.jsonString($0.description) }
        return """
            {
              "dryRun": \(dryRun),
              "results": [\(results.isEmpty ? "" : "\n" + results.joined(separator: ",\n") + "\n  ")],
              "warnings": [\(warnings.isEmpty ? "" : "\n" + warnings.joined(separator: ",\n") + "\n  ")]
            }

            """
    }

    /// A workload registration: the token (shown once), what happened to the entry, and what
    /// the host needs to reach and trust the control plane.
    static func registration(_ registered: WorkloadRegistry.Registered, facts: MeshFacts) throws(APIError) -> String {
        let object: [String: Any] = [
            "token": registered.token,
            "action": registered.entry.action.rawValue,
            "labels": registered.labels,
            "resourceVersion": String(registered.entry.resource.modRevision),
            "warnings": registered.warnings.map(\.description),
            "secureXDSAddress": facts.secureXDSAddress,
            "trustDomain": facts.trustDomain,
            "rootCertificate": facts.rootCertificatePEM,
        ]
        return try render(object, what: "the registration")
    }

    /// JSON objects and arrays as an answer: pretty, keys sorted, ending in a newline.
    static func render(_ object: Any, what: String) throws(APIError) -> String {
        do {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            return String(decoding: data, as: UTF8.self) + "\n"
        } catch {
            throw .unavailable("cannot render \(what): \(error)")
        }
    }
}
