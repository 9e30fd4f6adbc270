import Foundation
import Synchronization

/// Faults a test can switch on for the next resource requests: slow answers, throttling, server
/// errors, watches that drop. Off unless a test calls `inject`; discovery is never affected.
public final class FaultInjection: Sendable {
    public enum Fault: Sendable, Hashable {
        /// Answer after this delay.
        case latency(milliseconds: Int)
        /// 429 TooManyRequests with a Retry-After header.
        case tooManyRequests(retryAfterSeconds: Int)
        /// 500 InternalError.
        case internalError
        /// The next watch ends (the stream closes) after sending this many events.
        case dropWatch(afterEvents: Int)
    }

    private let pending = Mutex<[(fault: Fault, remaining: Int)]>([])

    init() {}

    /// Applies `fault` to the next `times` resource requests (watches only, for `dropWatch`).
    public func inject(_ fault: Fault, times: Int = 1) {
        pending.withLock { $0.append((fault, times)) }
    }

    public func clear() { pending.withLock { $0.removeAll() } }

    /// Takes the faults for one request, counting each down.
    func take(isWatch: Bool) -> [Fault] {
        pending.withLock { pending in
            var taken: [Fault] = []
            for index in pending.indices where pending[index].remaining > 0 {
                if case .dropWatch = pending[index].fault, !isWatch { continue }
                taken.append(pending[index].fault)
                pending[index].remaining -= 1
            }
            pending.removeAll { $0.remaining <= 0 }
            return taken
        }
    }
}
