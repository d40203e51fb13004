import ArgumentParser

/// `trellis`: the control plane (`serve`) and its command-line tools, in one binary.
@main
struct Trellis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An Istio-compatible service-mesh control plane for Envoy.",
        subcommands: [
            Serve.self, Validate.self, Apply.self, Get.self, Delete.self, Translate.self, Bootstrap.self, Token.self, Workload.self, ProxyStatusCommand.self, ProxyConfigCommand.self, Diff.self,
            LoadGen.self,
        ]
    )
}
