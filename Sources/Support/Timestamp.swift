import Foundation

/// UTC times as RFC 3339 text with whole seconds (`2024-05-01T12:00:00Z`): the form of state files, reports,
/// log lines and Kubernetes timestamps.
public enum Timestamp {
    public static func rfc3339(_ date: Date) -> String {
        var text = digits(of: date)
        text.append(0x5A)
        return String(decoding: text, as: UTF8.self)
    }

    /// `2024-05-01T12:00:00` of the whole second of `date`, written digit by digit (String(format:) goes through
    /// CoreFoundation's formatter: a tenth of the CPU of writing a shared ledger went there).
    static func digits(of date: Date) -> [UInt8] {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(32)
        func append(_ value: Int, width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var value = max(0, value)
            while divisor <= value / 10 { divisor *= 10 }
            while divisor > 0 {
                text.append(0x30 + UInt8(value / divisor % 10))
                value %= divisor
                divisor /= 10
            }
        }
        append(Int(parts.tm_year) + 1900, width: 4)
        text.append(0x2D)
        append(Int(parts.tm_mon) + 1, width: 2)
        text.append(0x2D)
        append(Int(parts.tm_mday), width: 2)
        text.append(0x54)
        append(Int(parts.tm_hour), width: 2)
        text.append(0x3A)
        append(Int(parts.tm_min), width: 2)
        text.append(0x3A)
        append(Int(parts.tm_sec), width: 2)
        return text
    }

    /// A Kubernetes MicroTime (`2024-05-01T12:00:00.123456Z`): the Lease's acquireTime and renewTime.
    /// Rounded to the nearest microsecond, so a MicroTime read back with `parse` prints as it was written.
    public static func microTime(_ date: Date) -> String {
        let total = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = total >= 0 ? total / 1_000_000 : (total - 999_999) / 1_000_000
        let micros = Int(total - seconds * 1_000_000)
        var text = digits(of: Date(timeIntervalSince1970: Double(seconds)))
        text.append(0x2E)
        var divisor = 100_000
        while divisor > 0 {
            text.append(0x30 + UInt8(micros / divisor % 10))
            divisor /= 10
        }
        text.append(0x5A)
        return String(decoding: text, as: UTF8.self)
    }

    /// An RFC 3339 time with whole or fractional seconds (`…T09:00:00Z`, `…T09:00:00.123456Z`) and a `Z` or numeric
    /// offset, as an API server may send either; nil for anything else (an impossible date too).
    /// Read by hand: ISO8601DateFormatter builds an ICU formatter on every parse, and a shared ledger of a thousand
    /// entries is parsed on every compare-and-swap (that was 60 % of the CPU of `bench webhooks --receivers 3`).
    public static func parse(_ text: String) -> Date? {
        let utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable(RFC3339.parse) ?? Array(utf8).withUnsafeBufferPointer(RFC3339.parse)
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

/// The RFC 3339 `date-time` grammar (section 5.6), digits read straight from the bytes.
enum RFC3339 {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2), expect(0x54, 0x74),
              let hour = number(2), expect(0x3A), let minute = number(2), expect(0x3A), let second = number(2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var micros = 0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            var digits = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if digits < 6 { micros = micros * 10 + Int(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offset = 0
        if expect(0x5A, 0x7A) {
            offset = 0
        } else if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
            let sign = bytes[index] == 0x2D ? -1 : 1
            index += 1
            guard let hours = number(2), expect(0x3A), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
