import MeshAPI
import Testing

/// Istio's own validation corpus and bookinfo sample are the specification.
@Suite(.enabled(if: Corpus.isPresent || Corpus.isRequired, Comment(rawValue: Corpus.absence)))
struct CorpusTests {
    @Test("Istio's invalid documents are rejected naming the field", arguments: Corpus.validationDocuments("-invalid.yaml"))
    func invalidDocumentIsRejected(_ document: CorpusDocument) throws {
        try document.expectRejected()
    }

    @Test("Istio's valid documents load without errors", arguments: Corpus.validationDocuments("-valid.yaml"))
    func validDocumentLoads(_ document: CorpusDocument) {
        document.expectLoads()
    }

    @Test("the corpus is where the tests expect it")
    func corpusIsPresent() {
        #expect(Corpus.validationDocuments("-invalid.yaml").count >= 30)
        #expect(Corpus.validationDocuments("-valid.yaml").count >= 15)
        #expect(Corpus.bookinfoFiles.count >= 20)
    }

    @Test("every bookinfo file loads without errors", arguments: Corpus.bookinfoFiles)
    func bookinfoFileLoads(_ name: String) throws {
        let path = Corpus.path("bookinfo/\(name)")
        let result = try ConfigLoader.loadPaths([path])
        #expect(!result.hasErrors, "\(result.errors.map(\.description).joined(separator: "\n"))")
        #expect(!result.config.keys.isEmpty)
        #expect(result.rejected.isEmpty)
    }

    @Test("bookinfo's rules and destination rules load together")
    func bookinfoRulesTogether() throws {
        let folder = Corpus.path("bookinfo")
        let result = try ConfigLoader.loadPaths([
            "\(folder)/destination-rule-all.yaml", "\(folder)/virtual-service-all-v1.yaml",
            "\(folder)/bookinfo-gateway.yaml",
        ])
        #expect(!result.hasErrors, "\(result.errors.map(\.description).joined(separator: "\n"))")
        #expect(result.config.virtualServices.map(\.name) == ["bookinfo", "details", "productpage", "ratings", "reviews"])
        #expect(result.config.destinationRules.count == 4)
        #expect(result.config.gateways.count == 1)
    }
}

/// Trellis' own cases in the corpus format, for host rules Istio's corpus has no cases for.
@Suite struct OwnCorpusTests {
    @Test("invalid documents are rejected naming the field", arguments: Corpus.ownDocuments("-invalid.yaml"))
    func invalidDocumentIsRejected(_ document: CorpusDocument) throws {
        try document.expectRejected()
    }

    @Test("valid documents load without errors", arguments: Corpus.ownDocuments("-valid.yaml"))
    func validDocumentLoads(_ document: CorpusDocument) {
        document.expectLoads()
    }

    @Test("the cases are there")
    func casesArePresent() {
        #expect(Corpus.ownDocuments("-invalid.yaml").count >= 14)
        #expect(Corpus.ownDocuments("-valid.yaml").count >= 3)
    }
}
