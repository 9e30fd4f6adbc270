/// A money amount kept exactly, as millionths, parsed from decimal text like "1000.00" or "0.015".
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale: Int64 = 1_000_000
    /// The amount in millionths of the currency unit.
    public let micros: Int64

    public init(micros: Int64) { self.micros = micros }

    /// Parses `123`, `123.4`, `0.015`: digits, an optional point and up to six decimals. No sign, no exponent.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard parts.count == 1 || !fraction.isEmpty, fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        fraction += String(repeating: "0", count: 6 - fraction.count)
        guard let units = Int64(whole), let micros = Int64(fraction) else { return nil }
        self.micros = units * Amount.scale + micros
    }

    /// At least two decimals, more only when needed: "1000.00", "0.015".
    public var description: String {
        let units = micros / Amount.scale
        var fraction = String(micros % Amount.scale)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(units).\(fraction)"
    }

    public static func < (a: Amount, b: Amount) -> Bool { a.micros < b.micros }
}

/// A duration written as a whole number and one unit: `90s`, `30m`, `2h`, `90d`, `4w`, `7y`.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let seconds: Int64
    public let text: String

    public init?(_ text: String) {
        // One unit only, at most nine digits, more than zero: what a tenant file may write.
        guard text.dropLast().count <= 9, text.dropLast().allSatisfy(\.isASCIIDigit),
              let seconds = DurationText.seconds(text), seconds > 0 else { return nil }
        self.seconds = seconds
        self.text = text
    }

    public var description: String { text }
    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.seconds < b.seconds }
}

/// A Kubernetes resource quantity (`500m`, `2`, `16Gi`, `1.5G`), kept as written once validated.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    private static let suffixes: Set<String> = ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]

    /// Accepts the forms the Kubernetes API accepts without rewriting: digits, an optional fraction, one suffix.
    public init?(_ text: String) {
        let number = text.prefix { $0.isASCIIDigit || $0 == "." }
        let suffix = String(text.dropFirst(number.count))
        guard !number.isEmpty, number.first != ".", number.last != ".", number.filter({ $0 == "." }).count <= 1,
              Quantity.suffixes.contains(suffix), text.count <= 32 else { return nil }
        self.text = text
    }

    public var description: String { text }

    /// The amount in base units (cores, bytes), for comparisons.
    public var value: Double {
        let number = text.prefix { $0.isASCIIDigit || $0 == "." }
        let factors: [String: Double] = [
            "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776, "Pi": 1_125_899_906_842_624,
            "Ei": 1_152_921_504_606_846_976,
        ]
        return (Double(number) ?? 0) * (factors[String(text.dropFirst(number.count))] ?? 1)
    }
}

extension Character {
    public var isASCIIDigit: Bool { isASCII && isNumber }
}
