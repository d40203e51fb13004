import Foundation
import Yams

/// Decodes a Kubernetes Secret's top-level `type`, `data` (base64) and `stringData` (plain text,
/// which wins over `data` for the same key, as the API server merges them). No message ever
/// quotes a value: it may be key material.
enum SecretDecoder {
    /// The keys Istio reads, generic form first (its precedence): certificate, key, CA.
    static let genericKeys = (certificate: "cert", key: "key", ca: "cacert")
    static let tlsKeys = (certificate: "tls.crt", key: "tls.key", ca: "ca.crt")

    /// A decoded Secret and the field path of each value it came from, for validation messages.
    struct Decoded {
        var secret: Secret
        var paths: [String: String]
    }

    static func decode(_ top: ObjectReader) -> Decoded {
        top.ignore("immutable")
        let type = top.string("type") ?? "Opaque"
        var values: [String: String] = [:]
        var paths: [String: String] = [:]
        if let data = top.field("data") {
            for (key, text) in entries(data, decode: base64) {
                values[key] = text
                paths[key] = FieldPath.entry("data", key)
            }
        }
        if let stringData = top.field("stringData") {
            for (key, text) in entries(stringData, decode: { $0 }) {
                values[key] = text
                paths[key] = FieldPath.entry("stringData", key)
            }
        }
        var secret = Secret(type: type)
        let keys = values[genericKeys.certificate] != nil && values[genericKeys.key] != nil ? genericKeys : tlsKeys
        secret.certificateChainPEM = values[keys.certificate]
        secret.privateKeyPEM = values[keys.key]
        secret.caCertificatesPEM = values[genericKeys.ca] ?? values[tlsKeys.ca]
        var used: [String: String] = [:]
        for (role, key) in [("certificate", keys.certificate), ("key", keys.key)] where values[key] != nil {
            used[role] = paths[key]
        }
        if values[genericKeys.ca] != nil { used["ca"] = paths[genericKeys.ca] } else if values[tlsKeys.ca] != nil { used["ca"] = paths[tlsKeys.ca] }
        return Decoded(secret: secret, paths: used)
    }

    /// The string entries of `data` or `stringData`, each turned into text by `decode` (nil: an
    /// error was reported). Values are never echoed back.
    private static func entries(_ cursor: YAMLCursor, decode: (String) -> String?) -> [(String, String)] {
        guard case .mapping = cursor.node else {
            cursor.error("expected object")
            return []
        }
        var result: [(String, String)] = []
        _ = cursor.map { key, value -> Bool? in
            guard case .scalar(let scalar) = value.node else {
                value.error("expected a string value")
                return nil
            }
            guard let text = decode(scalar.string) else {
                value.error("not valid base64 (Kubernetes `data` values are base64; use `stringData` for plain text)")
                return nil
            }
            result.append((key, text))
            return true
        }
        return result
    }

    private static func base64(_ text: String) -> String? {
        // kubectl writes one line; YAML block scalars may wrap it.
        let joined = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: joined) else { return nil }
        return String(data: data, encoding: .utf8) ?? ""
    }
}
