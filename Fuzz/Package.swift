// swift-tools-version:6.1
// libFuzzer binaries for Trellis' fuzz targets (Sources/TrellisFuzzing in the main package).
// Built only by scripts/fuzz, with `swift build --sanitize=fuzzer`; a separate package so that
// the main build never needs the fuzzer runtime.
import PackageDescription

let package = Package(
    name: "trellis-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "trellis", path: "..")],
    targets: ["config", "translation", "ads"].map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [.product(name: "TrellisFuzzing", package: "trellis")]
        )
    }
)
