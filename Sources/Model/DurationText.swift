/// Durations as people write them in flags, YAML and tenant files: `30s`, `5m`, `1h30m`, `2d`, `4w`, `1y`. The one
/// parser: GitSync's intervals, `reconcile --interval`, and the tenant file's `TimeSpan` (one unit only) use it.
public enum DurationText {
    /// Seconds per unit.
    public static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000]

    /// Whole numbers each followed by a unit, summed; nil for anything else (an empty text, a fraction, a
    /// missing or unknown unit, or a total too large).
    public static func seconds(_ text: String) -> Int64? {
        var total: Int64 = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if let unit = units[character], digits.count <= 12, let value = Int64(digits) {
                let (part, overflow) = value.multipliedReportingOverflow(by: unit)
                guard !overflow else { return nil }
                let (sum, overflowed) = total.addingReportingOverflow(part)
                guard !overflowed else { return nil }
                total = sum
                digits = ""
            } else {
                return nil
            }
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }

    public static func parse(_ text: String) -> Duration? {
        seconds(text).map { .seconds($0) }
    }

    /// Whole seconds, largest two units: `45s`, `12m5s`, `3h4m`, `2d3h`.
    public static func format(_ duration: Duration) -> String {
        var seconds = max(0, duration.components.seconds)
        var parts: [String] = []
        for (unit, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)] where seconds >= size || (unit == "s" && parts.isEmpty) {
            parts.append("\(seconds / size)\(unit)")
            seconds %= size
            if parts.count == 2 { break }
        }
        return parts.joined()
    }
}
