import Foundation
import Testing
import TrellisFuzzing

/// Every input of the committed fuzz corpus (`Fuzz/Corpus/TARGET`) and every crash a fuzzer
/// ever found (`Fuzz/Crashes/TARGET`, kept as regression cases once fixed) runs through its
/// target on every test run, without libFuzzer.
@Suite struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    struct Input: Sendable, CustomTestStringConvertible {
        var target: String
        var path: String
        var testDescription: String { "\(target): \((path as NSString).lastPathComponent)" }
    }

    static let targets: [String: @Sendable ([UInt8]) -> Void] = [
        "config": { ConfigFuzzer.fuzz($0) },
        "translation": { TranslationFuzzer.fuzz($0) },
        "ads": { ADSStreamFuzzer.fuzz($0) },
    ]

    static var inputs: [Input] {
        var inputs: [Input] = []
        for folder in ["Corpus", "Crashes"] {
            for target in targets.keys.sorted() {
                let directory = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(target)
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
                inputs += names.filter { !$0.hasPrefix(".") }.sorted().map {
                    Input(target: target, path: directory.appendingPathComponent($0).path)
                }
            }
        }
        return inputs
    }

    @Test("every corpus input and past crash runs through its target", arguments: inputs)
    func replay(_ input: Input) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: input.path)))
        Self.targets[input.target]?(bytes)
    }

    @Test("each target has a corpus to start from")
    func corpusIsThere() {
        for target in Self.targets.keys {
            #expect(Self.inputs.filter { $0.target == target }.count >= 3, "\(target)")
        }
    }
}
