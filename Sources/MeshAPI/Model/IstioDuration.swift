/// A duration as Istio writes it: Go syntax (`1m30s`, `1.5s`, `100ms`, `1h`), kept to whole
/// milliseconds because Istio accepts nothing finer. Parse with `init(parsing:)`.
public struct IstioDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static func seconds(_ seconds: Int64) -> IstioDuration {
        IstioDuration(milliseconds: seconds * 1000)
    }

    /// Whole seconds, as in protobuf's `Duration.seconds` (truncated towards zero).
    public var seconds: Int64 { milliseconds / 1000 }

    /// The sub-second remainder in nanoseconds, as in protobuf's `Duration.nanos`.
    public var nanos: Int32 { Int32((milliseconds % 1000) * 1_000_000) }

    /// Parses Go's `time.ParseDuration` syntax. Throws when the text is not a duration or has
    /// a part finer than a millisecond.
    public init(parsing text: String) throws(DurationError) {
        let nanoseconds = try GoDuration.parse(text)
        guard nanoseconds % 1_000_000 == 0 else { throw .finerThanMilliseconds(text) }
        self.milliseconds = nanoseconds / 1_000_000
    }

    public static func < (lhs: IstioDuration, rhs: IstioDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    /// Seconds with the milliseconds as a fraction when there are any, e.g. `90s`, `1.5s`, `0.001s`.
    public var description: String {
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = milliseconds.magnitude
        let fraction = magnitude % 1000
        guard fraction != 0 else { return "\(sign)\(magnitude / 1000)s" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(magnitude / 1000).\(digits)s"
    }
}

/// Why a duration could not be parsed.
public enum DurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case finerThanMilliseconds(String)

    public var description: String {
        switch self {
        case .invalid(let text):
            "invalid duration \"\(text)\": expected Go duration syntax such as 1m30s, 1.5s or 100ms"
        case .finerThanMilliseconds(let text):
            "invalid duration \"\(text)\": only durations to ms precision are supported"
        }
    }
}

/// Go's `time.ParseDuration`, to the nanosecond, including its rounding of fractions.
enum GoDuration {
    private static let units: [String: UInt64] = [
        "ns": 1, "us": 1_000, "\u{00B5}s": 1_000, "\u{03BC}s": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]

    static func parse(_ text: String) throws(DurationError) -> Int64 {
        var rest = Substring(text)
        var negative = false
        if let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw .invalid(text) }
        let limit: UInt64 = 1 << 63
        var total: UInt64 = 0
        while !rest.isEmpty {
            guard let first = rest.first, first == "." || first.isASCIIDigit else { throw .invalid(text) }
            let intDigits = rest.prefix(while: \.isASCIIDigit)
            rest = rest.dropFirst(intDigits.count)
            var value: UInt64 = 0
            for digit in intDigits {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(digit.asciiValue! - 48))
                guard !o1, !o2, sum <= limit else { throw .invalid(text) }
                value = sum
            }
            var fraction: UInt64 = 0
            var scale: Double = 1
            var fractionDigits = 0
            if rest.first == "." {
                rest = rest.dropFirst()
                let digits = rest.prefix(while: \.isASCIIDigit)
                rest = rest.dropFirst(digits.count)
                fractionDigits = digits.count
                var overflowed = false
                for digit in digits where !overflowed {
                    // Like Go, stop accumulating once more digits cannot change the result.
                    let (times, o1) = fraction.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times.addingReportingOverflow(UInt64(digit.asciiValue! - 48))
                    if o1 || o2 || sum > limit { overflowed = true; continue }
                    fraction = sum
                    scale *= 10
                }
            }
            guard !intDigits.isEmpty || fractionDigits > 0 else { throw .invalid(text) }
            let unitText = rest.prefix { $0 != "." && !$0.isASCIIDigit }
            rest = rest.dropFirst(unitText.count)
            guard let unit = units[String(unitText)] else { throw .invalid(text) }
            guard value <= limit / unit else { throw .invalid(text) }
            value *= unit
            if fraction > 0 {
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                guard value <= limit else { throw .invalid(text) }
            }
            total += value
            guard total <= limit else { throw .invalid(text) }
        }
        if negative { return total == limit ? Int64.min : -Int64(total) }
        guard total < limit else { throw .invalid(text) }
        return Int64(total)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
