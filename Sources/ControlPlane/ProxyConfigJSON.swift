import EnvoyAPI
import Foundation
import SwiftASN1
import SwiftProtobuf
import X509
import XDSCache
import XDSTranslator

/// What `trellis proxy-config` shows: a proxy's resources as Envoy JSON (as `translate` prints
/// them, without each resource's `@type`), with every secret reduced to what identifies it (names, SANs, serials, expiry):
/// private keys and certificates never leave the server this way.
enum ProxyConfigJSON {
    static func render(_ snapshot: Snapshot, types: [ResourceType]) throws -> String {
        let plain = try SnapshotJSON.render(snapshot, types: types.filter { $0 != .secret })
        var document = try JSONSerialization.jsonObject(with: Data(plain.utf8)) as? [String: Any] ?? [:]
        // Each section names its type; without `@type` a cluster or listener can be pasted into
        // a bootstrap's `static_resources` as it is.
        for (section, resources) in document {
            document[section] = (resources as? [[String: Any]])?.map { $0.filter { $0.key != "@type" } } ?? resources
        }
        let secrets = snapshot.resources(.secret).values.sorted { $0.name < $1.name }
        if types.contains(.secret) && !secrets.isEmpty {
            document[ResourceType.secret.shortName] = try secrets.map { try redacted($0) }
        }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `clusters`, `listeners`, ... as xDS types (none named: all).
    static func types(_ names: [String]) -> [ResourceType] {
        let byName: [String: ResourceType] = [
            "clusters": .cluster, "listeners": .listener, "routes": .route, "endpoints": .endpoint, "secrets": .secret,
        ]
        let types = names.compactMap { byName[$0] }
        return types.isEmpty ? ResourceType.allCases : types
    }

    private static func redacted(_ resource: XDSResource) throws -> [String: Any] {
        let secret = try Envoy_Extensions_TransportSockets_Tls_V3_Secret(unpackingAny: resource.body)
        var item: [String: Any] = ["name": secret.name]
        switch secret.type {
        case .tlsCertificate(let tls):
            item["certificateChain"] = try certificates(in: tls.certificateChain)
            item["privateKey"] = "[redacted]"
        case .validationContext(let context):
            item["trustedCA"] = try certificates(in: context.trustedCa)
        case nil:
            break
        }
        return item
    }

    /// Each certificate of an inline PEM: subject, SANs, serial and validity.
    private static func certificates(in source: Envoy_Config_Core_V3_DataSource) throws -> [[String: Any]] {
        guard case .inlineString(let pem)? = source.specifier else { return [] }
        var summaries: [[String: Any]] = []
        for document in try PEMDocument.parseMultiple(pemString: pem) {
            summaries.append(try summary(Certificate(derEncoded: document.derBytes)))
        }
        return summaries
    }

    private static func summary(_ certificate: Certificate) throws -> [String: Any] {
        var names: [String] = []
        let alternativeNames: SubjectAlternativeNames? = try certificate.extensions.subjectAlternativeNames
        for name in alternativeNames ?? SubjectAlternativeNames([]) {
            switch name {
            case .uniformResourceIdentifier(let uri): names.append(uri)
            case .dnsName(let dns): names.append("DNS:" + dns)
            case .ipAddress(let address): names.append("IP:" + address.bytes.map { String($0) }.joined(separator: "."))
            default: break
            }
        }
        let formatter = ISO8601DateFormatter()
        var item: [String: Any] = [
            "subject": certificate.subject.description,
            "serial": certificate.serialNumber.description,
            "notBefore": formatter.string(from: certificate.notValidBefore),
            "notAfter": formatter.string(from: certificate.notValidAfter),
        ]
        if !names.isEmpty { item["subjectAltNames"] = names }
        return item
    }
}
