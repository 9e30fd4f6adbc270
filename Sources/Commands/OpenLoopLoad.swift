import Foundation
import HTTPClient

/// Requests sent at a fixed rate whatever the answers' pace (open loop): request i is due at `i / rate` seconds, and
/// its latency counts from when it was due, so a server that falls behind shows it in the tail instead of slowing
/// the load down (no coordinated omission). `workers` threads, each with its own keep-alive connection.
struct OpenLoopLoad {
    struct Outcome {
        var latencies: [Double]
        var statuses: [Int: Int]
        var failures: Int
        var elapsed: Double

        var achievedRate: Double { Double(latencies.count) / max(elapsed, 1e-9) }
        func percentile(_ fraction: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
        }

        /// "N requests in S s (R/s): p50 …, p99 …, max …; 200×N 403×M".
        var summary: String {
            let codes = statuses.keys.sorted().map { "\($0)×\(statuses[$0]!)" }.joined(separator: " ")
            return String(format: "%d requests in %.1f s (%.0f/s): p50 %@, p99 %@, max %@; %@%@", latencies.count, elapsed, achievedRate,
                          Self.format(percentile(0.5)), Self.format(percentile(0.99)), Self.format(latencies.max() ?? 0), codes,
                          failures > 0 ? "; \(failures) transport failures" : "")
        }

        static func format(_ seconds: Double) -> String {
            if seconds >= 1 { return String(format: "%.2f s", seconds) }
            return seconds >= 0.001 ? String(format: "%.2f ms", seconds * 1000) : String(format: "%.0f µs", seconds * 1e6)
        }
    }

    var rate: Double
    var workers: Int

    /// Sends `requests.count` requests, request i at `start + i / rate`.
    func run(_ requests: [HTTPRequest]) -> Outcome {
        let state = LoadState(count: requests.count)
        let start = Date().addingTimeInterval(0.05)
        let threads = (0..<workers).map { _ in
            Thread {
                let http = HTTPClient()
                while let index = state.take() {
                    let due = start.addingTimeInterval(Double(index) / rate)
                    let wait = due.timeIntervalSinceNow
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                    let status = (try? http.send(requests[index]).status) ?? 0
                    state.record(index, latency: Date().timeIntervalSince(due), status: status)
                }
                state.done()
            }
        }
        threads.forEach { $0.start() }
        state.waitAll(workers)
        let elapsed = Date().timeIntervalSince(start)
        return state.outcome(elapsed: elapsed)
    }
}

/// Unchecked Sendable: every field is guarded by `condition`.
private final class LoadState: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0
    private let count: Int
    private var latencies: [Double]
    private var statuses: [Int: Int] = [:]
    private var failures = 0
    private var finished = 0

    init(count: Int) {
        self.count = count
        latencies = Array(repeating: 0, count: count)
    }

    func take() -> Int? {
        condition.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func record(_ index: Int, latency: Double, status: Int) {
        condition.withLock {
            latencies[index] = latency
            if status == 0 { failures += 1 } else { statuses[status, default: 0] += 1 }
        }
    }

    func done() {
        condition.withLock {
            finished += 1
            condition.broadcast()
        }
    }

    func waitAll(_ workers: Int) {
        condition.withLock { while finished < workers { condition.wait() } }
    }

    func outcome(elapsed: Double) -> OpenLoopLoad.Outcome {
        condition.withLock { OpenLoopLoad.Outcome(latencies: latencies, statuses: statuses, failures: failures, elapsed: elapsed) }
    }
}
