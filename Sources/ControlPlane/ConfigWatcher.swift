import Logging
import MeshAPI

/// Loads the config dir, validates it, and applies what is valid; then polls for edits. An
/// invalid document is reported once (log and `DATA_DIR/config-status.json`) and skipped; the
/// resource it would have replaced keeps serving its last good version.
struct ConfigWatcher: Sendable {
    let directory: ConfigDirectory
    let controller: MeshController
    /// Where `config-status.json` goes.
    let dataDirectory: String
    let logger: Logger
    var pollInterval: Duration = .milliseconds(250)

    /// The first load: its errors are fatal only when the directory cannot be read at all.
    func loadInitial() throws(ControlPlaneError) -> [ConfigFile] {
        let files = try directory.read()
        apply(files, previous: MeshConfig())
        return files
    }

    func watch(from initial: [ConfigFile]) async {
        var current = initial
        while !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            let files: [ConfigFile]
            do {
                files = try directory.read()
            } catch {
                logger.error("\(error); serving the last good configuration")
                continue
            }
            guard files != current else { continue }
            current = files
            apply(files, previous: controller.config)
        }
    }

    private func apply(_ files: [ConfigFile], previous: MeshConfig) {
        let result = ConfigLoader.load(files)
        for diagnostic in result.diagnostics {
            switch diagnostic.severity {
            case .error: logger.error("rejected: \(diagnostic)")
            case .warning: logger.warning("\(diagnostic)")
            }
        }
        let config = result.config.keepingLastGood(of: result.rejected, from: previous)
        controller.apply(config)
        do {
            try ConfigStatus(files: files.count, served: config, result: result, previous: previous)
                .write(toDirectory: dataDirectory)
        } catch {
            logger.error("cannot write \(ConfigStatus.fileName) in \(dataDirectory): \(error)")
        }
        logger.info(
            "configuration applied",
            metadata: [
                "files": "\(files.count)", "resources": "\(config.resourceCount)",
                "rejected": "\(result.rejected.count)",
            ])
    }
}

extension ConfigFile: Equatable {
    public static func == (lhs: ConfigFile, rhs: ConfigFile) -> Bool {
        lhs.path == rhs.path && lhs.contents == rhs.contents
    }
}

extension MeshConfig {
    var resourceCount: Int {
        serviceEntries.count + workloadEntries.count + workloadGroups.count + virtualServices.count
            + destinationRules.count + gateways.count + sidecars.count + peerAuthentications.count
            + authorizationPolicies.count
    }
}
