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
}
