import Foundation

/// RFC 3339 times as the Kubernetes API writes them (`2026-12-01T09:00:00Z`, whole seconds, UTC).
enum Timestamps {
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Accepts whole seconds and fractional seconds (`…T09:00:00.123456Z`), as the API server may send either.
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// The UTC calendar month of a time, `2026-12`: the budget ledger's key.
    static func month(_ date: Date) -> String { String(format(date).prefix(7)) }
}
