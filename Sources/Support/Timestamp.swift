import Foundation

/// UTC times as RFC 3339 text with whole seconds (`2024-05-01T12:00:00Z`): the form of state files, reports,
/// log lines and Kubernetes timestamps.
public enum Timestamp {
    public static func rfc3339(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// A Kubernetes MicroTime (`2024-05-01T12:00:00.123456Z`): the Lease's acquireTime and renewTime.
    public static func microTime(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let micros = min(999_999, Int(((date.timeIntervalSince1970 - whole) * 1_000_000).rounded(.down)))
        return String(rfc3339(date).dropLast()) + String(format: ".%06dZ", micros)
    }

    /// Accepts whole and fractional seconds (`…T09:00:00.123456Z`), as an API server may send either.
    public static func parse(_ text: String) -> Date? {
        iso8601(fractionalSeconds: false).date(from: text) ?? iso8601(fractionalSeconds: true).date(from: text)
    }

    /// An RFC 3339 formatter kept per thread: making one costs far more than using it (an ICU formatter is
    /// built each time: a third of a Sessions API list went there), and one is not to be shared across threads.
    public static func iso8601(fractionalSeconds: Bool) -> ISO8601DateFormatter {
        let key = fractionalSeconds ? "tenantry.timestamp.iso8601.fractional" : "tenantry.timestamp.iso8601"
        let cache = Thread.current.threadDictionary
        if let formatter = cache[key] as? ISO8601DateFormatter { return formatter }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fractionalSeconds ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        cache[key] = formatter
        return formatter
    }

    /// An HTTP date (RFC 9110 IMF-fixdate, `Tue, 01 Dec 2026 15:18:22 GMT`), as a `Date` or `Last-Modified` header has it.
    public static func httpDate(_ text: String) -> Date? {
        let fields = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard fields.count == 6, fields[5] == "GMT", fields[1].count == 2, fields[3].count == 4, fields[4].count == 8,
              let month = months.firstIndex(of: String(fields[2])) else { return nil }
        let number = month < 9 ? "0\(month + 1)" : "\(month + 1)"
        return iso8601(fractionalSeconds: false).date(from: "\(fields[3])-\(number)-\(fields[1])T\(fields[4])Z")
    }

    /// The UTC calendar month of a time, `2026-12`: the budget ledger's key.
    public static func month(_ date: Date) -> String { String(rfc3339(date).prefix(7)) }
}
