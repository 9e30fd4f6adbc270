import Foundation
import Support

/// How often and how long a delivery is tried: 1 s doubling to 5 min with jitter, 8 attempts, a receiver's
/// `Retry-After` honoured (up to an hour), 15 s per request.
public struct RetryPolicy: Sendable, Hashable {
    public var backoff: Backoff
    public var maxAttempts: Int
    public var requestTimeout: TimeInterval
    public var maxRetryAfter: TimeInterval

    public init(backoff: Backoff = Backoff(initial: 1, maximum: 300), maxAttempts: Int = 8,
                requestTimeout: TimeInterval = 15, maxRetryAfter: TimeInterval = 3600) {
        self.backoff = backoff
        self.maxAttempts = maxAttempts
        self.requestTimeout = requestTimeout
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait after failed attempt `attempt` (1 = the first): the receiver's wish when it said one.
    func wait(after attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        if let retryAfter { return min(max(0, retryAfter), maxRetryAfter) }
        return backoff.delay(retry: attempt)
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ header: String?, now: Date) -> TimeInterval? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { max(0, $0.timeIntervalSince(now)) }
    }
}

/// What one attempt came to.
public enum AttemptResult: Sendable, Hashable {
    /// The receiver took it (2xx).
    case delivered(status: Int)
    /// Worth trying again (5xx, 408, 429, no answer, a Secret not readable yet), after `retryAfter` if it said.
    case retry(status: Int?, error: String, retryAfter: TimeInterval?)
    /// Not worth trying again (another 4xx, a redirect, a refused address, a bad origin).
    case final(status: Int?, error: String)

    /// The verdict of an HTTP status, as a callback receiver answers.
    static func of(status: Int, headers: [String: String], now: Date) -> AttemptResult {
        switch status {
        case 200..<300: return .delivered(status: status)
        case 408, 429, 500...599:
            return .retry(status: status, error: "the receiver answered \(status)",
                          retryAfter: RetryPolicy.retryAfter(headers["retry-after"], now: now))
        default: return .final(status: status, error: "the receiver answered \(status); it is not retried")
        }
    }
}

/// One attempt as the session history and the audit trail record it.
public struct DeliveryAttempt: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case delivered
        /// Failed; the next attempt is at the date.
        case retrying(Date)
        /// Failed for good: a final answer, or the last attempt.
        case failed
        /// An origin answer not sent because a newer one for the same session replaces it.
        case superseded
    }

    public var delivery: String
    public var intent: String
    public var subject: String
    public var event: NotificationEvent
    public var target: String
    public var attempt: Int
    public var time: Date
    public var status: Int?
    public var error: String?
    public var outcome: Outcome
}
