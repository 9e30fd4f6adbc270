import Foundation
import Model

/// The controller's `/metrics` in the Prometheus text format: Sessions by namespace and phase (from the cache),
/// the work queue's depth, and the counters (`Counters`) since start.
extension SessionController {
    public var queueDepth: Int { queue.count }

    public func metricsText() -> String {
        let counts = self.counts
        var byPhase: [String: PolicyCounts] = [:]
        for session in sessions.cache.all() {
            let namespace = session["metadata"]?["namespace"]?.stringValue ?? ""
            byPhase[namespace, default: PolicyCounts(sessions: [])].add(session)
        }
        var out = """
        # HELP tenantry_sessions Sessions in the controller's cache by namespace and phase.
        # TYPE tenantry_sessions gauge

        """
        for namespace in byPhase.keys.sorted() {
            let c = byPhase[namespace]!
            for (phase, value) in [("Pending", c.pending), ("Running", c.running), ("Completed", c.completed), ("Failed", c.failed), ("Stopped", c.stopped)] {
                out += "tenantry_sessions{namespace=\"\(Self.escaped(namespace))\",phase=\"\(phase)\"} \(value)\n"
            }
        }
        func metric(_ name: String, _ type: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("tenantry_session_queue_depth", "gauge", "Session keys waiting in the controller's work queue.", queue.count)
        metric("tenantry_session_reconciles_total", "counter", "Session reconciles.", counts.reconciles)
        metric("tenantry_session_reconcile_retries_total", "counter", "Reconciles that failed and were queued again with backoff.", counts.retries)
        metric("tenantry_session_jobs_created_total", "counter", "Runner Jobs created.", counts.jobsCreated)
        metric("tenantry_session_jobs_deleted_total", "counter", "Runner Jobs deleted (stops, image and crash failures).", counts.jobsDeleted)
        metric("tenantry_session_status_writes_total", "counter", "Session status writes.", counts.statusWrites)
        metric("tenantry_session_quota_exceeded_total", "counter", "Sessions failed with QuotaExceeded: the ResourceQuota refused their runner.", counts.quotaRefusals)
        metric("tenantry_session_budget_writes_total", "counter", "Ledger writes to NamespacePolicy.status.budget.", counts.budgetWrites)
        metric("tenantry_session_budget_conflicts_total", "counter", "Ledger compare-and-swap conflicts (409) retried.", counts.budgetConflicts)
        metric("tenantry_session_settlements_skipped_total", "counter", "Settlements found already in the ledger (not applied twice).", counts.settlementsSkipped)
        out += """
        # HELP tenantry_session_retention_deleted_total Objects retention deleted, by kind.
        # TYPE tenantry_session_retention_deleted_total counter
        tenantry_session_retention_deleted_total{kind="session"} \(counts.sessionsDeleted)
        tenantry_session_retention_deleted_total{kind="artifact"} \(counts.artifactsDeleted)

        """
        return out
    }

    /// A label value as the text format wants it.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
