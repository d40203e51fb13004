import Hummingbird
import MeshAPI

/// Reads a resource's kind, namespace and name from a Kubernetes-style path's parameters
/// (`/apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME`, or `/api/VERSION/...` for the core group).
enum ResourcePath {
    static func kind(_ parameters: Parameters) throws(APIError) -> ResourceKind {
        let group = parameters.get("group") ?? ""
        let plural = parameters.get("plural") ?? ""
        let version = parameters.get("version") ?? ""
        guard let kind = ResourceKind(group: group, plural: plural) else {
            let served = ResourceKind.allCases.map { "\($0.group.isEmpty ? "core" : $0.group)/\($0.plural)" }
            throw .notFound(
                "the server does not serve \(plural) in group \"\(group.isEmpty ? "core" : group)\"; it serves "
                    + served.joined(separator: ", "))
        }
        guard kind.versions.contains(version) else {
            throw .notFound("\(kind.rawValue) is served as \(kind.versions.map { kind.group.isEmpty ? $0 : "\(kind.group)/\($0)" }.joined(separator: ", ")), not \(version)")
        }
        return kind
    }

    static func namespace(_ parameters: Parameters) throws(APIError) -> String {
        guard let namespace = parameters.get("namespace"), !namespace.isEmpty else {
            throw .badRequest("the path names no namespace")
        }
        return namespace
    }

    static func key(_ parameters: Parameters) throws(APIError) -> ResourceKey {
        guard let name = parameters.get("name"), !name.isEmpty else { throw .badRequest("the path names no resource") }
        return ResourceKey(kind: try kind(parameters), namespace: try namespace(parameters), name: name)
    }
}
