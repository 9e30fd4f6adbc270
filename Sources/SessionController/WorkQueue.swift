import Foundation
import Support
import Synchronization

/// A work queue keyed by session (`namespace/name`), as client-go's rate-limited queue: a key queued twice is
/// processed once; a key being processed is never handed to a second worker, and one added meanwhile is
/// processed again after; a key that failed comes back after a per-key exponential backoff, reset on success.
final class WorkQueue: Sendable {
    private struct State {
        var queue: [String] = []
        var dirty: Set<String> = []
        var processing: Set<String> = []
        var failures: [String: Int] = [:]
        var shutDown = false
    }
    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)
    private let timers = DispatchQueue(label: "tenantry.session-controller.delays")
    let backoff: Backoff

    init(backoff: Backoff = Backoff(initial: 0.05, maximum: 60)) {
        self.backoff = backoff
    }

    func add(_ key: String) {
        let signal = state.withLock { state -> Bool in
            guard !state.shutDown, !state.dirty.contains(key) else { return false }
            state.dirty.insert(key)
            guard !state.processing.contains(key) else { return false }
            state.queue.append(key)
            return true
        }
        if signal { ready.signal() }
    }

    func add(_ key: String, after delay: TimeInterval) {
        guard delay > 0 else { return add(key) }
        timers.asyncAfter(deadline: .now() + delay) { [weak self] in self?.add(key) }
    }

    /// After a failure: back off per key (`Backoff`, 50 ms doubling up to a minute).
    func retry(_ key: String) {
        let failures = state.withLock { state -> Int in
            state.failures[key, default: 0] += 1
            return state.failures[key]!
        }
        add(key, after: backoff.delay(retry: failures))
    }

    func forget(_ key: String) { _ = state.withLock { $0.failures.removeValue(forKey: key) } }

    func failures(_ key: String) -> Int { state.withLock { $0.failures[key] ?? 0 } }

    /// The next key, blocking; nil once the queue is shut down.
    func next() -> String? {
        while true {
            ready.wait()
            let key = state.withLock { state -> String?? in
                if state.shutDown { return .some(nil) }
                guard !state.queue.isEmpty else { return nil }
                let key = state.queue.removeFirst()
                state.dirty.remove(key)
                state.processing.insert(key)
                return .some(key)
            }
            if let key { return key }
        }
    }

    /// The worker finished `key`; if it was added meanwhile it is queued again.
    func done(_ key: String) {
        let signal = state.withLock { state -> Bool in
            state.processing.remove(key)
            guard state.dirty.contains(key) else { return false }
            state.queue.append(key)
            return true
        }
        if signal { ready.signal() }
    }

    func shutDown(workers: Int) {
        state.withLock { $0.shutDown = true }
        for _ in 0..<max(1, workers) { ready.signal() }
    }

    var count: Int { state.withLock { $0.queue.count } }
}
