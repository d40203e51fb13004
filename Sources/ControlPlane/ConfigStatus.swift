import Foundation
import MeshAPI

/// `DATA_DIR/config-status.json`: what the last load of the config dir did — how much is
/// served, which resources were rejected and why (the lines the log shows), and which of those
/// keep serving their last good version. Rewritten atomically after every load, so an operator
/// or a script can check an edit without reading logs.
struct ConfigStatus: Encodable {
    var loadedAt: Date
    var files: Int
    var servedResources: Int
    /// `Kind namespace/name` of every resource whose current definition has errors.
    var rejected: [String]
    /// The rejected resources that keep serving the version before the bad edit.
    var keptLastGood: [String]
    var errors: [String]
    var warnings: [String]

    static let fileName = "config-status.json"

    init(files: Int, served: MeshConfig, result: LoadResult, previous: MeshConfig, now: Date = Date()) {
        loadedAt = now
        self.files = files
        servedResources = served.resourceCount
        rejected = result.rejected.sorted().map(\.description)
        keptLastGood = result.rejected.intersection(previous.keys).sorted().map(\.description)
        errors = result.diagnostics.filter { $0.severity == .error }.map(\.description)
        warnings = result.diagnostics.filter { $0.severity == .warning }.map(\.description)
    }

    func write(toDirectory directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
