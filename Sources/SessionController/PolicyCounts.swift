import Apply
import Foundation
import Model
import Sessions

/// `NamespacePolicy.status` the controller keeps: `activeSessions` (Pending + Running, the number
/// `maxConcurrentSessions` limits), `sessions` by phase, `observedGeneration` and the conditions `BudgetAvailable`
/// and `Ready` (whether the namespace can start another Session now; the budget is the tenant's, read from its ledger
/// namespace's policy, so every namespace of a tenant says the same about it). Computed from the Session cache; written (a
/// merge patch of only these fields, so the budget's compare-and-swap writers are not overwritten) only when they differ.
struct PolicyCounts: Hashable {
    var pending = 0
    var running = 0
    var completed = 0
    var failed = 0
    var stopped = 0

    init(sessions: [JSONObject]) {
        for session in sessions { add(session) }
    }

    mutating func add(_ session: JSONObject) {
        switch session["status"]?["phase"]?.stringValue.flatMap(Session.Phase.init(rawValue:)) ?? .pending {
        case .pending: pending += 1
        case .running: running += 1
        case .completed: completed += 1
        case .failed: failed += 1
        case .stopped: stopped += 1
        }
    }

    var active: Int { pending + running }

    var sessions: JSON {
        ["pending": .int(pending), "running": .int(running), "completed": .int(completed), "failed": .int(failed), "stopped": .int(stopped)]
    }

    /// The status fields for `policy`: counts, and conditions whose `lastTransitionTime` moves only when their status does
    /// (messages name no running totals, so they change only with the condition). `tenantLedger` is the tenant's
    /// ledger when it lives on another namespace's policy (nil: the policy's own `status.budget`).
    func status(for policy: JSONObject, tenantLedger: BudgetLedger? = nil, now: Date) -> JSONObject {
        let generation = policy["metadata"]?["generation"]?.intValue ?? 0
        var conditions = (policy["status"]?["conditions"]?.arrayValue ?? []).compactMap(Condition.init(json:))
        let snapshot = try? PolicySnapshot(object: policy)
        let ledger = snapshot.map { ($0.ledgerHome == $0.namespace ? $0.ledger : tenantLedger)?.rolled(to: now) ?? BudgetLedger.empty(monthly: $0.budget.monthly, now: now) }
        let currency = snapshot?.budget.currency ?? ""
        let exhausted = ledger?.isExhausted ?? false
        if let ledger {
            if exhausted {
                conditions.set("BudgetAvailable", .false, reason: "BudgetExhausted",
                               message: "the monthly budget of \(ledger.monthly) \(currency) is used up for \(ledger.month)",
                               now: now, generation: generation, order: Self.order)
            } else {
                conditions.set("BudgetAvailable", .true, reason: "WithinBudget", message: "the monthly budget of \(ledger.monthly) \(currency) has room left for \(ledger.month)",
                               now: now, generation: generation, order: Self.order)
            }
        }
        let limit = policy["spec"]?["limits"]?["maxConcurrentSessions"]?.intValue
        if snapshot == nil {
            conditions.set("Ready", .false, reason: "InvalidPolicy", message: "the NamespacePolicy cannot be read; fix it in the tenant repo",
                           now: now, generation: generation, order: Self.order)
        } else if exhausted {
            conditions.set("Ready", .false, reason: "BudgetExhausted", message: "no session can start until the budget resets or grows",
                           now: now, generation: generation, order: Self.order)
        } else if let limit, active >= limit {
            conditions.set("Ready", .false, reason: "ConcurrencyLimitReached", message: "the limit of \(limit) active sessions is reached; new ones are refused until one ends",
                           now: now, generation: generation, order: Self.order)
        } else {
            conditions.set("Ready", .true, reason: "Accepting", message: "accepting sessions\(limit.map { " (at most \($0) active)" } ?? "")",
                           now: now, generation: generation, order: Self.order)
        }
        return ["activeSessions": .int(active), "sessions": sessions, "observedGeneration": .int(generation),
                "conditions": .array(conditions.map(\.json))]
    }

    static let order = ["Ready", "BudgetAvailable"]

    /// Whether the policy's status already says this (the conditions' times aside, which `status(for:)` keeps).
    static func isWritten(_ status: JSONObject, in policy: JSONObject) -> Bool {
        let held = policy["status"]
        return status.pairs.allSatisfy { key, value in held?[key] == value }
    }
}

extension SessionController {
    /// Counts are written at most every quarter second per namespace: a burst of transitions is one write, and the
    /// budget's compare-and-swap writers meet fewer conflicts.
    static let countsDelay: TimeInterval = 0.25

    /// A Session of `namespace` may have changed phase: write its counts soon.
    func countsChanged(namespace: String) {
        guard countsDue.withLock({ $0.insert(namespace).inserted }) else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.countsDelay) { [weak self] in
            guard let self, !self.isStopped else { return }
            self.countsDue.withLock { _ = $0.remove(namespace) }
            do { try self.refreshCounts(namespace: namespace) } catch {
                self.configuration.log("namespace \(namespace): NamespacePolicy counts not written: \(error); trying again")
                self.countsChanged(namespace: namespace)
            }
        }
    }

    /// Brings the namespace's NamespacePolicy counts and conditions up to date with the Session cache.
    func refreshCounts(namespace: String) throws {
        guard let policy = policies.cache.all(namespace: namespace).first, let name = policy["metadata"]?["name"]?.stringValue else { return }
        let status = PolicyCounts(sessions: sessions.cache.all(namespace: namespace))
            .status(for: policy, tenantLedger: tenantLedger(of: policy), now: configuration.clock())
        guard !PolicyCounts.isWritten(status, in: policy) else { return }
        let reference = ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace, name: name)
        let written = try client.patchStatus(reference, status: status)
        policies.cache.remember(written)
    }
}
