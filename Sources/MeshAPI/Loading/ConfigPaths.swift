import Foundation

/// Turns the files and directories a user names into `ConfigFile`s.
enum ConfigPaths {
    /// A named file is read whatever its extension; a directory contributes its `*.yaml` and
    /// `*.yml` files, recursively, in path order.
    static func read(_ paths: [String]) throws(ConfigLoadError) -> [ConfigFile] {
        var files: [ConfigFile] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ConfigLoadError(path: path, reason: "no such file or directory")
            }
            if isDirectory.boolValue {
                for file in try yamlFiles(in: path) { files.append(try readFile(file)) }
            } else {
                files.append(try readFile(path))
            }
        }
        return files
    }

    private static func yamlFiles(in directory: String) throws(ConfigLoadError) -> [String] {
        guard FileManager.default.isReadableFile(atPath: directory),
            let enumerator = FileManager.default.enumerator(atPath: directory)
        else { throw ConfigLoadError(path: directory, reason: "permission denied") }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            let full = (directory as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(full)
            }
        }
        return found.sorted()
    }

    private static func readFile(_ path: String) throws(ConfigLoadError) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigLoadError(path: path, reason: "permission denied")
        }
        guard let contents = String(data: data, encoding: .utf8) else {
            throw ConfigLoadError(path: path, reason: "not UTF-8 text")
        }
        return ConfigFile(path: path, contents: contents)
    }
}
