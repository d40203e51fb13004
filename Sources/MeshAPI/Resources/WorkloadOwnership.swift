extension WorkloadGroup {
    /// The group that owns an entry with these annotations, if any (an auto-registration first).
    public static func owner(annotations: [String: String]) -> String? {
        annotations[autoRegistrationAnnotation] ?? annotations[registeredGroupAnnotation]
    }
}
