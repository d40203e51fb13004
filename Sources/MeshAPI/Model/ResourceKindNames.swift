/// The names a kind goes by in REST paths and on the command line, as Kubernetes serves
/// Istio's CRDs: `virtualservices` in paths; `virtualservice`, `virtualservices`, `vs` or
/// `VirtualService` for `trellis get`.
extension ResourceKind {
    /// The lower-case plural of the kind's REST paths.
    public var plural: String {
        switch self {
        case .serviceEntry: "serviceentries"
        case .workloadEntry: "workloadentries"
        case .workloadGroup: "workloadgroups"
        case .virtualService: "virtualservices"
        case .destinationRule: "destinationrules"
        case .gateway: "gateways"
        case .sidecar: "sidecars"
        case .peerAuthentication: "peerauthentications"
        case .authorizationPolicy: "authorizationpolicies"
        case .secret: "secrets"
        }
    }

    /// The short names of Istio's CRDs (`shortNames`).
    public var shortNames: [String] {
        switch self {
        case .serviceEntry: ["se"]
        case .workloadEntry: ["we"]
        case .workloadGroup: ["wg"]
        case .virtualService: ["vs"]
        case .destinationRule: ["dr"]
        case .gateway: ["gw"]
        case .peerAuthentication: ["pa"]
        case .authorizationPolicy: ["ap"]
        case .sidecar, .secret: []
        }
    }

    /// The version the API serves the kind under (the newest Trellis accepts).
    public var servedVersion: String { versions[0] }

    /// `apiVersion` as written in documents: `networking.istio.io/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? servedVersion : "\(group)/\(servedVersion)" }

    /// A kind by any name kubectl would take: singular, plural, short name or kind, any case.
    public init?(commandLineName name: String) {
        let lowered = name.lowercased()
        guard
            let kind = Self.allCases.first(where: {
                $0.rawValue.lowercased() == lowered || $0.plural == lowered || $0.shortNames.contains(lowered)
            })
        else { return nil }
        self = kind
    }

    /// The kind a REST path names by group and plural.
    public init?(group: String, plural: String) {
        guard let kind = Self.allCases.first(where: { $0.group == group && $0.plural == plural }) else { return nil }
        self = kind
    }

    /// Every name `init(commandLineName:)` takes, for help and error messages.
    public static var commandLineNames: String {
        allCases.map { ([$0.rawValue.lowercased()] + $0.shortNames).joined(separator: "|") }.joined(separator: ", ")
    }
}
