import Foundation
import Support

/// Spaces writes per key (a GitHub token, a Slack channel): at least `interval` apart and at most `perMinute`
/// in any minute, waiting on the injected clock. One pacer per process serializes the writes it paces.
final class WritePacer: @unchecked Sendable {
    // Unchecked: `recent` is touched only under `lock`.
    private let lock = NSLock()
    private var recent: [String: [Date]] = [:]
    let interval: TimeInterval
    let perMinute: Int
    let clock: WallClock

    init(interval: TimeInterval, perMinute: Int, clock: WallClock) {
        self.interval = interval
        self.perMinute = perMinute
        self.clock = clock
    }

    /// Waits until a write for `key` may go, and counts it.
    func pace(_ key: String) {
        lock.lock()
        defer { lock.unlock() }
        var now = clock.now()
        var times = (recent[key] ?? []).filter { now.timeIntervalSince($0) < 60 }
        var wait: TimeInterval = 0
        if let last = times.last { wait = max(wait, interval - now.timeIntervalSince(last)) }
        if times.count >= perMinute { wait = max(wait, 60 - now.timeIntervalSince(times[times.count - perMinute])) }
        if wait > 0 {
            clock.sleep(wait)
            now = max(clock.now(), now.addingTimeInterval(wait))
        }
        times.append(now)
        recent[key] = times
    }
}
