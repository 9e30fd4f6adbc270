import Apply
import Foundation
import Model

/// `NamespacePolicy.status` counts the controller keeps: `activeSessions` (Pending + Running, the number
/// `maxConcurrentSessions` limits) and `sessions` by phase. Computed from the Session cache; written (a merge patch
/// of only these fields, so the budget's compare-and-swap writers are not overwritten) only when they differ.
struct PolicyCounts: Hashable {
    var pending = 0
    var running = 0
    var completed = 0
    var failed = 0
    var stopped = 0

    init(sessions: [JSONObject]) {
        for session in sessions {
            switch session["status"]?["phase"]?.stringValue.flatMap(Session.Phase.init(rawValue:)) ?? .pending {
            case .pending: pending += 1
            case .running: running += 1
            case .completed: completed += 1
            case .failed: failed += 1
            case .stopped: stopped += 1
            }
        }
    }

    var active: Int { pending + running }

    var status: JSONObject {
        ["activeSessions": .int(active),
         "sessions": ["pending": .int(pending), "running": .int(running), "completed": .int(completed), "failed": .int(failed), "stopped": .int(stopped)]]
    }

    /// Whether the policy's status already says this.
    func isWritten(in policy: JSONObject) -> Bool {
        let status = policy["status"]
        return status?["activeSessions"] == .int(active) && status?["sessions"] == self.status["sessions"]
    }
}

extension SessionController {
    /// Brings the namespace's NamespacePolicy counts up to date with the Session cache.
    func refreshCounts(namespace: String) throws {
        guard let policy = policies.cache.all(namespace: namespace).first, let name = policy["metadata"]?["name"]?.stringValue else { return }
        let counts = PolicyCounts(sessions: sessions.cache.all(namespace: namespace))
        guard !counts.isWritten(in: policy) else { return }
        let reference = ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace, name: name)
        let written = try client.patchStatus(reference, status: counts.status)
        policies.cache.remember(written)
    }
}
