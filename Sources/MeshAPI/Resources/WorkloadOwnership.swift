extension WorkloadGroup {
    /// The entry of one member, as Istio makes it: the template, labelled with the group's own
    /// labels, then the template's, then the member's (later wins), at the member's address and
    /// service account.
    public func entry(address: String, serviceAccount: String, labels: [String: String]) -> WorkloadEntry {
        var entry = template
        entry.address = address
        entry.serviceAccount = serviceAccount
        entry.labels = (metadata?.labels ?? [:]).merging(template.labels) { $1 }.merging(labels) { $1 }
        return entry
    }

    /// The group that owns an entry with these annotations, if any (an auto-registration first).
    public static func owner(annotations: [String: String]) -> String? {
        annotations[autoRegistrationAnnotation] ?? annotations[registeredGroupAnnotation]
    }
}
