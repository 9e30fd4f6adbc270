import Foundation

/// Fetches a `Source` every interval, spread by random jitter so that many replicas do not hit
/// the git host in step, and at once when `requestRefresh()` is called (a `push` webhook).
public final class SourcePoller: @unchecked Sendable {
    public let source: Source
    /// The fraction of the interval a wait may be longer or shorter by.
    public let jitter: Double
    // Guards `refreshRequested` and `stopped`; also the wait between fetches.
    private let condition = NSCondition()
    private var refreshRequested = false
    private var stopped = false

    public init(source: Source, jitter: Double = 0.1) {
        self.source = source
        self.jitter = min(max(jitter, 0), 0.5)
    }

    /// Fetches now, then again after each wait, calling `handle` with every outcome, until
    /// `stop()`. Runs on the calling thread; while it runs, `SourceRefresh.requestRefresh`
    /// for this repository wakes it.
    public func run(_ handle: (Result<FetchResult, SourceError>) -> Void) {
        SourceRefresh.registry.add(self)
        defer { SourceRefresh.registry.remove(self) }
        while true {
            condition.lock()
            refreshRequested = false
            let isStopped = stopped
            condition.unlock()
            if isStopped { return }
            do {
                handle(.success(try source.fetch()))
            } catch {
                handle(.failure(error))
            }
            guard wait(seconds: nextDelay()) else { return }
        }
    }

    /// Ends the wait and fetches now; a request during a fetch makes the next wait end at once.
    public func requestRefresh() {
        condition.lock()
        refreshRequested = true
        condition.broadcast()
        condition.unlock()
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The interval scaled by a random factor in 1 ± jitter.
    func nextDelay() -> Double {
        let interval = source.config.interval
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        return seconds * (1 + Double.random(in: -jitter...jitter))
    }

    /// Waits until the delay passes or a refresh is requested; false when stopped.
    private func wait(seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !refreshRequested && !stopped {
            if !condition.wait(until: deadline) { break }
        }
        return !stopped
    }
}
