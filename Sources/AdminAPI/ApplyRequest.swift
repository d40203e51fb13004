import Foundation
import MeshAPI

/// The body of `POST /api/apply`: YAML documents (named by `X-Trellis-Source`), or, from
/// `trellis apply -f DIR`, JSON `{"files": [{"path": ..., "contents": ...}]}` so that every
/// file keeps its own name in diagnostics while all of them are applied together.
enum ApplyRequest {
    private struct Files: Decodable {
        struct File: Decodable {
            var path: String
            var contents: String
        }

        var files: [File]
    }

    static func files(_ body: String, contentType: String?, source: String?) throws(APIError) -> [ConfigFile] {
        guard contentType?.hasPrefix("application/vnd.trellis.files+json") == true else {
            return [ConfigFile(path: source ?? "request", contents: body, origin: .api)]
        }
        do {
            let decoded = try JSONDecoder().decode(Files.self, from: Data(body.utf8))
            guard Set(decoded.files.map(\.path)).count == decoded.files.count else {
                throw APIError.badRequest("files: each path may appear once")
            }
            return decoded.files.map { ConfigFile(path: $0.path, contents: $0.contents, origin: .api) }
        } catch let error as APIError {
            throw error
        } catch {
            throw .badRequest("files: not a list of {path, contents}: \(error)")
        }
    }
}
