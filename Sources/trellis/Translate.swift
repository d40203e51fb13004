import ArgumentParser
import ControlPlane
import Foundation
import MeshAPI
import XDSCache
import XDSTranslator

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print, as Envoy JSON, what `trellis serve` would send one proxy for this Istio YAML.",
        discussion: """
            Loads and validates PATH... like `trellis validate` (problems go to standard error; exit 1 \
            if any is an error, after printing what the valid resources translate to), then prints the \
            clusters, endpoints, listeners and routes that the proxy described by --node-id and \
            --metadata (the flags `trellis bootstrap` takes; INTERCEPTION_MODE defaults to REDIRECT) \
            would receive. The output is what a proxy without a proven identity gets, as on the \
            plaintext xDS port: workload certificates and ROOTCA need the running server's CA, so \
            there are no secrets and no mesh mTLS (upstream ISTIO_MUTUAL, inbound PeerAuthentication) \
            in it. --repeat N translates N times and prints the mean and fastest time per translation \
            on standard error (for benchmarks).
            """)

    /// `--type`: which xDS types to print. Parsed by hand so that a bad value is one line.
    static let selections: KeyValuePairs<String, [ResourceType]> = [
        "clusters": [.cluster], "endpoints": [.endpoint], "listeners": [.listener], "routes": [.route],
        "secrets": [.secret], "all": ResourceType.allCases,
    ]

    @Argument(help: ArgumentHelp("Files or directories of Istio resources.", valueName: "path"))
    var paths: [String]

    @Option(name: .customLong("node-id"), help: "The proxy's node id, in Istio's form (sidecar~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local).")
    var nodeID: String

    @Option(name: .customLong("metadata"), help: "Node metadata KEY=VALUE (repeatable), as for `trellis bootstrap`.")
    var metadata: [String] = []

    @Option(name: .customLong("type"), help: "Which resources to print: clusters, endpoints, listeners, routes, secrets or all.")
    var selection = "all"

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: json.")
    var format = "json"

    @Option(name: .customLong("root-namespace"), help: "Istio's mesh root namespace, as given to `trellis serve`.")
    var rootNamespace: String = MeshConfig.defaultRootNamespace

    @Option(name: .customLong("repeat"), help: ArgumentHelp("Translate N times and report the time per translation on standard error.", valueName: "n"))
    var repetitions: Int?

    func run() throws {
        let names = Self.selections.map(\.key)
        guard let types = Self.selections.first(where: { $0.key == selection })?.value else {
            failAndExit("--type '\(selection)' must be one of \(names.joined(separator: ", "))")
        }
        guard format == "json" else { failAndExit("-o/--output '\(format)' is not supported: the output is json") }
        if let repetitions, repetitions < 1 { failAndExit("--repeat must be at least 1, not \(repetitions)") }
        do {
            try checkRootNamespace(rootNamespace)
        } catch {
            failAndExit("\(error)")
        }
        let preview: ProxyPreview
        do {
            preview = try ProxyPreview(nodeID: nodeID, metadata: try parseNodeMetadata(metadata))
        } catch let error as ProxyNodeError {
            failAndExit(error.description)
        } catch {
            failAndExit("\(error)")
        }
        let result: LoadResult
        do {
            result = try ConfigLoader.loadPaths(paths)
        } catch {
            failAndExit("\(error)")
        }
        for diagnostic in result.diagnostics {
            FileHandle.standardError.write(Data("\(diagnostic.description)\n".utf8))
        }

        let (snapshot, timing) = translate(result.config, with: preview)
        if types == [.secret] {
            FileHandle.standardError.write(
                Data("trellis: note: secrets (default, ROOTCA) come from the running server's CA; translate shows none\n".utf8))
        }
        do {
            print(try SnapshotJSON.render(snapshot, types: types), terminator: "")
        } catch {
            failAndExit("cannot render the translation as JSON: \(error)")
        }
        if let timing {
            FileHandle.standardError.write(Data("trellis: \(timing)\n".utf8))
        }
        if result.hasErrors { throw ExitCode(1) }
    }

    /// Translates once, or `--repeat` times and then also says how long a translation took (per
    /// proxy: the configuration is indexed once, as `serve` does for all its proxies).
    private func translate(_ config: MeshConfig, with preview: ProxyPreview) -> (Snapshot, String?) {
        let index = ProxyPreview.index(config, rootNamespace: rootNamespace)
        guard let repetitions else { return (preview.snapshot(index), nil) }
        let clock = ContinuousClock()
        var snapshot = Snapshot()
        var durations: [Duration] = []
        for _ in 0..<repetitions {
            durations.append(clock.measure { snapshot = preview.snapshot(index) })
        }
        let milliseconds = durations.map { Double($0.components.seconds) * 1e3 + Double($0.components.attoseconds) / 1e15 }
        let mean = milliseconds.reduce(0, +) / Double(milliseconds.count)
        let resources = ResourceType.allCases.map { snapshot.resources($0).count }.reduce(0, +)
        let timing = String(
            format: "translated %d times: mean %.3f ms, min %.3f ms per translation (%d resources)",
            repetitions, mean, milliseconds.min() ?? 0, resources)
        return (snapshot, timing)
    }
}
