import Foundation

/// The two facts a simulated Envoy needs from a Cluster (its name, and whether it takes its
/// endpoints from EDS), read straight off the wire: decoding thousands of whole clusters per
/// stream would make the load generator, not the server, the bottleneck of a benchmark.
struct ClusterSummary: Equatable {
    var name = ""
    var isEDS = false

    /// `envoy.config.cluster.v3.Cluster`: `name` is field 1 (string); the discovery type is
    /// field 2 (`type`, enum DiscoveryType, EDS = 3).
    init(serialized bytes: Data) throws {
        var reader = WireReader(bytes)
        while let (field, wireType) = try reader.nextTag() {
            switch (field, wireType) {
            case (1, 2): name = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (2, 0): isEDS = try reader.varint() == 3
            default: try reader.skip(wireType)
            }
        }
    }
}

/// A minimal protobuf wire-format reader: tags, varints, length-delimited fields, skipping.
struct WireReader {
    struct Malformed: Error {}

    private let bytes: Data
    private var offset: Data.Index

    init(_ bytes: Data) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    mutating func nextTag() throws -> (field: UInt64, wireType: UInt64)? {
        guard offset < bytes.endIndex else { return nil }
        let tag = try varint()
        return (tag >> 3, tag & 7)
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.endIndex, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Malformed()
    }

    mutating func lengthDelimited() throws -> Data {
        let length = try varint()
        guard length <= UInt64(bytes.endIndex - offset) else { throw Malformed() }
        let end = offset + Int(length)
        defer { offset = end }
        return bytes[offset..<end]
    }

    mutating func skip(_ wireType: UInt64) throws {
        switch wireType {
        case 0: _ = try varint()
        case 1: try advance(8)
        case 2: _ = try lengthDelimited()
        case 5: try advance(4)
        default: throw Malformed()
        }
    }

    private mutating func advance(_ count: Int) throws {
        guard bytes.endIndex - offset >= count else { throw Malformed() }
        offset += count
    }
}
