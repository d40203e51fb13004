import CertificateAuthority
import EnvoyAPI
import Foundation
import Logging
import Synchronization
import SwiftProtobuf
import XDSCache

@testable import ControlPlane

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("trellis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }  // best effort: a temp dir
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date())
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// The mesh CA, failing on purpose while `failing` is set (an injected CA outage).
final class FlakyIssuer: WorkloadCertificateIssuer {
    let authority: CertificateAuthority
    private let failingState = Mutex(false)
    private let callCount = Mutex(0)

    init(authority: CertificateAuthority) { self.authority = authority }

    var failing: Bool {
        get { failingState.withLock { $0 } }
        set { failingState.withLock { $0 = newValue } }
    }
    var calls: Int { callCount.withLock { $0 } }

    var trustDomain: String { authority.trustDomain }
    var rootCertificatePEM: String { authority.rootCertificatePEM }

    struct Outage: Error, CustomStringConvertible {
        var description: String { "the signing key is unavailable (injected)" }
    }

    func issue(for identity: WorkloadIdentity, lifetime: TimeInterval, now: Date) throws -> WorkloadCertificate {
        callCount.withLock { $0 += 1 }
        if failing { throw Outage() }
        return try authority.issue(for: identity, lifetime: lifetime, now: now)
    }
}

/// A sidecar node as Envoy sends it.
func sidecarNode(
    ip: String, workload: String, namespace: String = "default", labels: [String: String] = [:], metadata: [String: String]
) -> Envoy_Config_Core_V3_Node {
    var node = Envoy_Config_Core_V3_Node()
    node.id = "sidecar~\(ip)~\(workload).\(namespace)~\(namespace).svc.cluster.local"
    for (key, value) in metadata {
        node.metadata.fields[key] = Google_Protobuf_Value(stringValue: value)
    }
    var labelStruct = Google_Protobuf_Struct()
    for (key, value) in labels { labelStruct.fields[key] = Google_Protobuf_Value(stringValue: value) }
    node.metadata.fields["LABELS"] = Google_Protobuf_Value(structValue: labelStruct)
    return node
}

extension Snapshot {
    func listener(_ name: String) throws -> Envoy_Config_Listener_V3_Listener? {
        guard let resource = resource(.listener, named: name) else { return nil }
        return try Envoy_Config_Listener_V3_Listener(serializedBytes: resource.body.value)
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()
