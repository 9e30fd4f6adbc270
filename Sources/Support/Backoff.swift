import Foundation

/// Exponential backoff with jitter, the one retry pacing: the wait before retry n (1 = the first retry) is
/// `initial` × 2^(n−1), capped at `maximum`, then spread by ±`jitter` (a share of it) so that many clients
/// failing together do not retry in step.
public struct Backoff: Sendable, Hashable {
    public var initial: Double
    public var maximum: Double
    public var jitter: Double

    public init(initial: Double, maximum: Double = .greatestFiniteMagnitude, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 1)
    }

    /// Seconds to wait before retry `retry` (1, 2, 3, …).
    public func delay(retry: Int) -> Double {
        let base = min(maximum, initial * pow(2, Double(min(max(0, retry - 1), 62))))
        return jitter > 0 ? base * Double.random(in: (1 - jitter)...(1 + jitter)) : base
    }
}
