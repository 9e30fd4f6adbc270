/// Durations as people write them in flags and YAML: `30s`, `5m`, `1h30m`, `2d`.
enum DurationText {
    private static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]

    static func parse(_ text: String) -> Duration? {
        var total: Int64 = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if let unit = units[character], let value = Int64(digits) {
                total += value * unit
                digits = ""
            } else {
                return nil
            }
        }
        return digits.isEmpty && !text.isEmpty ? .seconds(total) : nil
    }

    /// Whole seconds, largest two units: `45s`, `12m5s`, `3h4m`, `2d3h`.
    static func format(_ duration: Duration) -> String {
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
