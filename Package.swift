// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "trellis",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trellis", targets: ["trellis"]),
        // The fuzz targets, for the libFuzzer binaries of Fuzz/ (scripts/fuzz).
        .library(name: "TrellisFuzzing", targets: ["TrellisFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.27.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Istio resources decoded from YAML with line numbers, and their validation.
        .target(
            name: "MeshAPI",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                // Gateway credential Secrets: PEM certificates and keys are checked on load.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // Generated from Protos/ by scripts/generate-protos; never edited by hand.
        .target(
            name: "EnvoyAPI",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ]
        ),
        // Istio config + one proxy → Envoy resources. Pure: no I/O, no clocks.
        .target(
            name: "XDSTranslator",
            dependencies: ["MeshAPI", "EnvoyAPI", "XDSCache"],
            swiftSettings: strictSettings
        ),
        // Versioned, serialized snapshots and the per-stream ADS state machine.
        .target(
            name: "XDSCache",
            dependencies: ["EnvoyAPI", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // ADS over grpc-swift-2.
        .target(
            name: "XDSServer",
            dependencies: [
                "XDSCache", "EnvoyAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // Per-edge golden metrics: proxies' outbound cluster stats (metrics service sink) →
        // source workload → destination service edges, /api/graph and Istio's metric names.
        .target(
            name: "MeshTelemetry",
            dependencies: ["EnvoyAPI"],
            swiftSettings: strictSettings
        ),
        // The mesh CA: SPIFFE workload certificates, root creation or plug-in CA.
        .target(
            name: "CertificateAuthority",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // Versioned key-value store for the mesh's own state (etcd v3 semantics): the protocol,
        // an in-memory backend and the embedded SQLite one.
        .target(
            name: "ConfigStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        // Generated from Protos/etcd/ (etcd's v3 KV, Watch and Lease API) by
        // scripts/generate-protos; never edited by hand.
        .target(
            name: "EtcdAPI",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ]
        ),
        // The ConfigStore on an etcd v3 cluster (HA: every replica sees the same revisions).
        .target(
            name: "EtcdStore",
            dependencies: [
                "ConfigStore", "EtcdAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The admin HTTP API: resources applied through it, validated like the config dir and
        // kept in the store.
        .target(
            name: "AdminAPI",
            dependencies: [
                "MeshAPI", "ConfigStore", "CertificateAuthority",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        // Wires config dir → validation → translation → cache → server.
        .target(
            name: "ControlPlane",
            dependencies: [
                "MeshAPI", "XDSTranslator", "XDSCache", "XDSServer", "EnvoyAPI", "CertificateAuthority", "AdminAPI",
                "ConfigStore", "MeshTelemetry", "EtcdStore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Yams", package: "Yams"),
                // WorkloadGroup readiness probes (httpGet, tcpSocket) run by the control plane.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // `trellis loadgen`: simulated Envoy ADS streams against any xDS server.
        .target(
            name: "LoadGenerator",
            dependencies: [
                "EnvoyAPI", "XDSCache", "MeshAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "trellis",
            dependencies: [
                "ControlPlane", "MeshAPI", "CertificateAuthority", "XDSTranslator", "XDSCache", "LoadGenerator",
                "AdminAPI", "ConfigStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        // Fuzz targets: YAML decoding and validation, translation, the ADS state machine. Run
        // under libFuzzer by scripts/fuzz; their corpus and crashes replay in FuzzRegressionTests.
        .target(
            name: "TrellisFuzzing",
            dependencies: [
                "MeshAPI", "XDSTranslator", "XDSCache", "EnvoyAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["TrellisFuzzing"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MeshAPITests",
            dependencies: [
                "MeshAPI",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: ["Corpus"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "XDSTranslatorTests",
            dependencies: [
                "XDSTranslator", "MeshAPI", "EnvoyAPI", "XDSCache",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            resources: [.copy("Golden")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MeshTelemetryTests",
            dependencies: ["MeshTelemetry", "EnvoyAPI"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "ControlPlane", "AdminAPI", "ConfigStore", "MeshAPI", "XDSCache", "XDSServer", "XDSTranslator", "EnvoyAPI", "CertificateAuthority",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoadGeneratorTests",
            dependencies: ["LoadGenerator", "XDSCache", "XDSTranslator", "MeshAPI", "EnvoyAPI"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AdminAPITests",
            dependencies: [
                "AdminAPI", "ConfigStore", "MeshAPI", "CertificateAuthority",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConfigStoreTests",
            // EtcdStore: the contract suite runs against a real etcd (Debian's etcd-server).
            dependencies: ["ConfigStore", "EtcdStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "XDSCacheTests",
            dependencies: ["XDSCache", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strictSettings
        ),
    ]
)
