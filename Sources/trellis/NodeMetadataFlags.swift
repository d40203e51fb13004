import ArgumentParser
import ControlPlane

/// Reads `--metadata KEY=VALUE` flags as `trellis bootstrap` writes them into the node, so
/// that `translate` sees exactly the metadata a bootstrapped Envoy would send.
func parseNodeMetadata(_ items: [String]) throws -> [String: NodeMetadataValue] {
    var result: [String: NodeMetadataValue] = [:]
    for item in items {
        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty,
            let value = NodeMetadataValue.parse(key: parts[0], value: parts[1])
        else {
            throw ValidationError("--metadata '\(item)' must be KEY=VALUE (LABELS=k=v,k2=v2 or a JSON object)")
        }
        result[parts[0]] = value
    }
    return result
}
