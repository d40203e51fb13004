import EnvoyAPI
import Foundation
import MeshAPI
import XDSCache
import SwiftProtobuf

/// Packs a message as `google.protobuf.Any`, serialized deterministically so that equal
/// configuration always yields equal bytes (and so equal versions).
func packed<M: SwiftProtobuf.Message>(_ message: M) -> Google_Protobuf_Any {
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    var any = Google_Protobuf_Any()
    any.typeURL = "type.googleapis.com/" + M.protoMessageName
    // Serializing a message built in memory cannot fail: every field is set by us.
    let bytes: [UInt8] = (try? message.serializedBytes(options: options)) ?? []
    any.value = Data(bytes)
    return any
}

extension Google_Protobuf_Duration {
    init(milliseconds: Int64) {
        self.init(seconds: milliseconds / 1000, nanos: Int32(milliseconds % 1000) * 1_000_000)
    }

    init(_ duration: IstioDuration) {
        self.init(milliseconds: duration.milliseconds)
    }
}

extension Google_Protobuf_UInt32Value {
    init(_ value: UInt32) {
        self.init()
        self.value = value
    }
}

extension Google_Protobuf_BoolValue {
    init(_ value: Bool) {
        self.init()
        self.value = value
    }
}

extension Envoy_Config_Core_V3_Address {
    /// An IP (or `[v6]`) and port, or Istio's `unix://PATH` (a Unix domain socket; `@NAME` is
    /// Linux's abstract namespace), which has no port.
    static func socket(_ address: String, port: UInt32) -> Self {
        var result = Self()
        if address.hasPrefix("unix://") {
            var pipe = Envoy_Config_Core_V3_Pipe()
            pipe.path = String(address.dropFirst("unix://".count))
            result.pipe = pipe
            return result
        }
        var socket = Envoy_Config_Core_V3_SocketAddress()
        socket.address = address.hasPrefix("[") && address.hasSuffix("]") ? String(address.dropFirst().dropLast()) : address
        socket.portValue = port
        result.socketAddress = socket
        return result
    }
}

extension Envoy_Config_Core_V3_ConfigSource {
    /// "Get it on the ADS stream", as every Trellis resource refers to another.
    static var aggregated: Self {
        var source = Self()
        source.configSourceSpecifier = .ads(Envoy_Config_Core_V3_AggregatedConfigSource())
        source.resourceApiVersion = .v3
        return source
    }
}
