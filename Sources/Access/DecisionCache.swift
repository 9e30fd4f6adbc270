import Foundation
import Synchronization

/// A bounded map whose entries expire: authentication results and authorization decisions. Each
/// value is stored with its own lifetime (a positive TokenReview lives longer than a negative one).
/// When full, expired entries go first, then the oldest tenth inserted, so memory stays bounded under a
/// flood of distinct keys (bad tokens).
public final class DecisionCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        var value: Value
        var expires: Date
        var order: UInt64
    }

    private struct State: Sendable {
        var entries: [Key: Entry] = [:]
        var inserted: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public func value(for key: Key, now: Date = Date()) -> Value? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.expires > now else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            return entry.value
        }
    }

    public func store(_ value: Value, for key: Key, lifetime: TimeInterval, now: Date = Date()) {
        guard lifetime > 0 else { return }
        state.withLock { state in
            if state.entries[key] == nil, state.entries.count >= capacity {
                state.entries = state.entries.filter { $0.value.expires > now }
                if state.entries.count >= capacity {
                    // The oldest tenth in one pass, so a full cache costs O(log n) per insert, not O(n).
                    let doomed = state.entries.sorted { $0.value.order < $1.value.order }.prefix(max(1, capacity / 10))
                    for (key, _) in doomed { state.entries[key] = nil }
                }
            }
            state.inserted += 1
            state.entries[key] = Entry(value: value, expires: now.addingTimeInterval(lifetime), order: state.inserted)
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }
    public var statistics: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }
}
