/// Runs the checks of a document's kind on its decoded spec.
enum SpecValidation {
    static func validate(_ document: DecodedDocument, _ report: DocumentContext) {
        let key = document.key
        switch document.spec {
        case .serviceEntry(let spec): ServiceEntryValidation.validate(spec, key: key, report)
        case .workloadEntry(let spec): WorkloadValidation.validate(spec, report)
        case .workloadGroup(let spec): WorkloadValidation.validate(spec, report)
        case .virtualService(let spec): VirtualServiceValidation.validate(spec, key: key, report)
        case .destinationRule(let spec):
            DestinationRuleValidation.validate(spec, key: key, report)
            TranslationLimits.check(spec, report)
        case .gateway(let spec): GatewayValidation.validate(spec, key: key, report)
        case .sidecar(let spec): SidecarValidation.validate(spec, key: key, report)
        case .peerAuthentication(let spec): SecurityValidation.validate(spec, report)
        case .authorizationPolicy(let spec): SecurityValidation.validate(spec, report)
        case .secret(let spec, let fields): SecretValidation.validate(spec, fields: fields, report)
        }
    }
}
