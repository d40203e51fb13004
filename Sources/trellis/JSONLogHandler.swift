import Foundation
import Logging
import MeshAPI

/// `--log-format json`: one JSON object a line on standard error — `time`, `level`, `label`,
/// `source`, `message`, and every metadata key (peer, node, version, ...) — for log pipelines.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        fields["time"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["source"] = event.source
        fields["message"] = "\(event.message)"
        let line = "{" + fields.sorted { $0.key < $1.key }
            .map { ConfigDocuments.jsonString($0.key) + ":" + ConfigDocuments.jsonString($0.value) }
            .joined(separator: ",") + "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
