import Foundation
import Model
import Sessions
import Synchronization

/// One step of a Session as the controller is about to record it (its status changed): what the `steps` hook
/// hears, before the status is written. Notifications turn it into their intents.
public struct SessionStep: Sendable {
    /// The Session as read (labels, trigger payload) and parsed.
    public var object: JSONObject
    public var session: SessionObject
    /// The namespace's NamespacePolicy object as the controller has it now (notification webhooks, signing secret).
    public var policy: JSONObject?
    /// The status recorded before this step, and the one about to be written.
    public var previous: SessionStatus
    public var status: SessionStatus
    /// The tenant's budget ledger after this step settled the session's cost (nil when it settled nothing).
    public var settledLedger: BudgetLedger?
    public var now: Date
}

extension SessionController {
    /// Adds `entry` to the history of Session `namespace/name` at its next reconcile (the controller is the one
    /// status writer): how a notification's attempts reach the session's history. Kept in memory until written.
    public func appendHistory(_ entry: HistoryEntry, namespace: String, name: String) {
        let key = "\(namespace)/\(name)"
        notes.add(entry, key: key)
        queue.add(key)
    }

    /// The hook point of `reconcile`: tells `steps` of the status about to be written. It runs before the write, so
    /// what it records is on disk first: a crash in between makes the next reconcile derive and tell the same step
    /// again (the hook is idempotent), never lose it. A throw retries the reconcile.
    func tellStep(_ session: SessionObject, object: JSONObject, input: SessionMachine.Input, status: SessionStatus,
                  actions: [SessionMachine.Action]) throws {
        guard let steps = configuration.steps, status != session.status else { return }
        let settled = actions.contains { if case .settleBudget = $0 { return true }; return false }
        let policy = policies.cache.all(namespace: session.namespace).first
        // The tenant's ledger, on its ledger namespace's policy (as the settlement just left it in the cache).
        let home = policies.cache.all(namespace: ledgerNamespace(of: session.namespace)).first
        let ledger = settled ? home.flatMap { try? PolicySnapshot(object: $0).ledger } : nil
        try steps(SessionStep(object: object, session: session, policy: policy, previous: session.status, status: status,
                              settledLedger: ledger, now: input.now))
    }
}

/// History entries waiting for their Session's next status write, per `namespace/name`. In memory: a controller
/// that stops before writing them loses them (the audit trail keeps every attempt durably).
final class HistoryNotes: Sendable {
    private let pending = Mutex<[String: [HistoryEntry]]>([:])

    func add(_ entry: HistoryEntry, key: String) { pending.withLock { $0[key, default: []].append(entry) } }
    func peek(_ key: String) -> [HistoryEntry] { pending.withLock { $0[key] ?? [] } }

    /// The first `count` entries were written (more may have come meanwhile).
    func written(_ count: Int, key: String) {
        guard count > 0 else { return }
        pending.withLock { all in
            let rest = Array((all[key] ?? []).dropFirst(count))
            all[key] = rest.isEmpty ? nil : rest
        }
    }

    func drop(_ key: String) { _ = pending.withLock { $0.removeValue(forKey: key) } }
}
