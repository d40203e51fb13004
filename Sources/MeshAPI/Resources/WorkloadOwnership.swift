/// Which WorkloadGroup a WorkloadEntry belongs to, as its annotations say.
extension WorkloadGroup {
    /// Istio's annotation on an auto-registered entry: the group it was made from. Such an
    /// entry lives only while its proxy is connected (plus the cleanup grace).
    public static let autoRegistrationAnnotation = "istio.io/autoRegistrationGroup"
    /// On an entry written by `trellis workload register --group G`: made from G's template,
    /// kept until deregistered.
    public static let registeredGroupAnnotation = "trellis.dev/workload-group"

    /// The group that owns an entry with these annotations, if any.
    public static func owner(annotations: [String: String]) -> String? {
        annotations[autoRegistrationAnnotation] ?? annotations[registeredGroupAnnotation]
    }
}
