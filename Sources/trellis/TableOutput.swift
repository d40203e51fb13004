import ArgumentParser
import Foundation

/// Prints rows as kubectl does: left-aligned columns three spaces apart, the first row the header.
func printTable(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        print(
            zip(row, widths).map { $0.padding(toLength: $1 + 3, withPad: " ", startingAt: 0) }.joined()
                .trimmingCharacters(in: .whitespaces))
    }
}

/// `-o json`: the API's answer as it is, instead of the readable form.
struct JSONOutputOption: ParsableArguments {
    @Option(name: .customShort("o"), help: "json; readable text when omitted.")
    var output: String?

    var isJSON: Bool { output == "json" }

    func validate() throws {
        if let output, output != "json" { throw ValidationError("-o must be json") }
    }
}
