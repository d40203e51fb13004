import MeshAPI

/// Decides which WorkloadEntries are served as UNHEALTHY (``WorkloadProber``). The controller
/// gives it every configuration before serving it and reads the set back under one lock, so a
/// health report never pairs with a configuration older than the one served.
protocol WorkloadHealthSource: Sendable {
    /// Adopts `config`, about to be served, and answers which of its WorkloadEntries are
    /// unhealthy now (entries it has not checked yet included).
    func update(_ config: MeshConfig) -> Set<ResourceKey>

    /// The unhealthy entries of the configuration last given to `update`, as of now.
    var unhealthyWorkloads: Set<ResourceKey> { get }
}
