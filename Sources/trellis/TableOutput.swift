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
