import Foundation
import Model
import Synchronization

/// Counters and the latency histogram `/metrics` prints in the Prometheus text format.
public final class WebhookMetrics: Sendable {
    public static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    private struct State {
        var requests: [String: Int] = [:]   // "source\u{0}outcome"
        var bucketCounts = [Int](repeating: 0, count: WebhookMetrics.buckets.count)
        var latencyCount = 0
        var latencySum = 0.0
        var created = 0
        var retries = 0
        var failures = 0
    }

    private let state = Mutex(State())
    /// More metrics printed after these (the session controller's, when it runs in the same process).
    private let appended = Mutex<[@Sendable () -> String]>([])

    public func append(_ metrics: @escaping @Sendable () -> String) { appended.withLock { $0.append(metrics) } }

    public init() {}

    public func record(source: WebhookSource, outcome: WebhookOutcome, seconds: Double) {
        state.withLock { state in
            state.requests["\(source.rawValue)\u{0}\(outcome.label)", default: 0] += 1
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { state.bucketCounts[index] += 1 }
            state.latencyCount += 1
            state.latencySum += seconds
        }
    }

    func sessionCreated() { state.withLock { $0.created += 1 } }
    func creationRetried() { state.withLock { $0.retries += 1 } }
    func creationFailed() { state.withLock { $0.failures += 1 } }

    /// Requests counted for `source` with `outcome` (accepted, queued, duplicate, ignored, refused codes…).
    public func requests(source: WebhookSource, outcome: WebhookOutcome) -> Int {
        state.withLock { $0.requests["\(source.rawValue)\u{0}\(outcome.label)"] ?? 0 }
    }

    public var sessionsCreated: Int { state.withLock { $0.created } }

    public func text(journalDepth: Int, ready: Bool) -> String {
        let state = self.state.withLock { $0 }
        var out = """
        # HELP tenantry_webhook_requests_total Webhook requests by source and outcome.
        # TYPE tenantry_webhook_requests_total counter

        """
        for key in state.requests.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            out += "tenantry_webhook_requests_total{source=\"\(parts[0])\",outcome=\"\(parts[1])\"} \(state.requests[key]!)\n"
        }
        out += """
        # HELP tenantry_webhook_request_duration_seconds Time from request read to answer.
        # TYPE tenantry_webhook_request_duration_seconds histogram

        """
        for (index, bound) in Self.buckets.enumerated() {
            out += "tenantry_webhook_request_duration_seconds_bucket{le=\"\(bound)\"} \(state.bucketCounts[index])\n"
        }
        out += "tenantry_webhook_request_duration_seconds_bucket{le=\"+Inf\"} \(state.latencyCount)\n"
        out += "tenantry_webhook_request_duration_seconds_sum \(state.latencySum)\n"
        out += "tenantry_webhook_request_duration_seconds_count \(state.latencyCount)\n"
        out += """
        # HELP tenantry_webhook_journal_depth Accepted deliveries whose Session is not confirmed yet.
        # TYPE tenantry_webhook_journal_depth gauge
        tenantry_webhook_journal_depth \(journalDepth)
        # HELP tenantry_webhook_sessions_created_total Session objects created.
        # TYPE tenantry_webhook_sessions_created_total counter
        tenantry_webhook_sessions_created_total \(state.created)
        # HELP tenantry_webhook_session_create_retries_total Session creates that failed and will be retried.
        # TYPE tenantry_webhook_session_create_retries_total counter
        tenantry_webhook_session_create_retries_total \(state.retries)
        # HELP tenantry_webhook_session_create_failures_total Session creates the API server refused for good.
        # TYPE tenantry_webhook_session_create_failures_total counter
        tenantry_webhook_session_create_failures_total \(state.failures)
        # HELP tenantry_webhook_ready Whether the tenant table is loaded.
        # TYPE tenantry_webhook_ready gauge
        tenantry_webhook_ready \(ready ? 1 : 0)

        """
        for metrics in appended.withLock({ $0 }) { out += metrics() }
        return out
    }
}

