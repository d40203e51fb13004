/// `security.istio.io` AuthorizationPolicy: allows or denies requests to the selected workloads.
/// A request matches a rule when every `from`, `to` and `when` of the rule matches (an empty
/// rule matches everything); the policy matches when any rule does. With no rules an ALLOW
/// policy allows nothing.
public struct AuthorizationPolicy: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        case allow = "ALLOW"
        case deny = "DENY"
        case audit = "AUDIT"
        case custom = "CUSTOM"
    }

    /// The external authorizer of a CUSTOM policy.
    public struct ExtensionProvider: Sendable, Equatable {
        public var name: String

        public init(name: String) {
            self.name = name
        }
    }

    public struct Rule: Sendable, Equatable {
        /// Any entry may match (each is the `source` of the YAML's `from[]`).
        public var from: [Source]
        /// Any entry may match (each is the `operation` of the YAML's `to[]`).
        public var to: [Operation]
        /// All must match.
        public var when: [Condition]

        public init(from: [Source] = [], to: [Operation] = [], when: [Condition] = []) {
            self.from = from
            self.to = to
            self.when = when
        }
    }

    /// Who sent the request. Every non-empty field must match (any value of it).
    public struct Source: Sendable, Equatable {
        public var principals: [String] = []
        public var notPrincipals: [String] = []
        public var requestPrincipals: [String] = []
        public var notRequestPrincipals: [String] = []
        public var namespaces: [String] = []
        public var notNamespaces: [String] = []
        public var serviceAccounts: [String] = []
        public var notServiceAccounts: [String] = []
        public var ipBlocks: [String] = []
        public var notIpBlocks: [String] = []
        public var remoteIpBlocks: [String] = []
        public var notRemoteIpBlocks: [String] = []
        public var trustDomains: [String] = []
        public var notTrustDomains: [String] = []

        public init() {}

        /// True when no field is set, which Istio rejects.
        public var isEmpty: Bool { self == Source() }
    }

    /// What the request asks for. Every non-empty field must match (any value of it).
    public struct Operation: Sendable, Equatable {
        public var hosts: [String] = []
        public var notHosts: [String] = []
        /// Port numbers as strings, as Istio writes them.
        public var ports: [String] = []
        public var notPorts: [String] = []
        public var methods: [String] = []
        public var notMethods: [String] = []
        public var paths: [String] = []
        public var notPaths: [String] = []

        public init() {}

        /// True when no field is set, which Istio rejects.
        public var isEmpty: Bool { self == Operation() }
    }

    /// An Istio attribute (`key`) that must take one of `values` and none of `notValues`.
    public struct Condition: Sendable, Equatable {
        public var key: String
        public var values: [String]
        public var notValues: [String]

        public init(key: String, values: [String] = [], notValues: [String] = []) {
            self.key = key
            self.values = values
            self.notValues = notValues
        }
    }

    /// The `matchLabels` of the YAML.
    public var selector: WorkloadSelector?
    /// Istio's default when `action` is left out is `ALLOW`.
    public var action: Action
    public var provider: ExtensionProvider?
    public var rules: [Rule]

    public init(selector: WorkloadSelector? = nil, action: Action = .allow, provider: ExtensionProvider? = nil, rules: [Rule] = []) {
        self.selector = selector
        self.action = action
        self.provider = provider
        self.rules = rules
    }
}
