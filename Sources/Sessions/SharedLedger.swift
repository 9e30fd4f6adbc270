import Foundation
import Model
import Support

/// What several webhook receivers share through one NamespacePolicy's status, so that budget, `maxConcurrentSessions`
/// and `sessionsPerMinute` hold exactly across replicas: `status.budget` (the `BudgetLedger`) and `status.admission`
/// {`live`: the sessions admitted and not yet settled, each with its reservation; `recent`: the admissions of the
/// last minute}.
///
/// One ledger per tenant: it lives on the tenant's ledger namespace (`spec.tenant.ledgerNamespace`) and holds the
/// entries of all the tenant's namespaces, each naming its own, so the budget is the tenant's while the concurrency
/// and the rate stay per namespace, all decided in one write. Every operation is pure; a writer applies it by compare-and-swap on the policy's resourceVersion
/// (`statusPatch`), re-reading on 409 Conflict, so two replicas can never both take the last slot or the last euro.
///
/// A Session leaves `live` when the controller settles it (`finishing`), in the same write that moves its reservation
/// to spent: a settlement that finds the session gone from `live` was done before, so a controller replaced between
/// its ledger write and its status write does not settle twice.
public struct SharedLedger: Sendable, Hashable {
    public struct Reservation: Sendable, Hashable {
        public var session: String
        public var namespace: String
        public var cost: Amount
        /// The month the cost was reserved in (a settlement in a later month does not take it from that month's reserve).
        public var month: String
        public var at: Date
    }

    public struct Admission: Sendable, Hashable {
        public var session: String
        public var namespace: String
        public var at: Date
    }

    /// An intent (`IntentWindow.key`) and the session that owns it since `at`.
    public struct Intent: Sendable, Hashable {
        public var key: String
        public var session: String
        public var at: Date
    }

    public var budget: BudgetLedger
    /// Sessions holding a reservation and a concurrency slot, oldest first.
    public var live: [Reservation]
    /// Admissions within the last minute, oldest first.
    public var recent: [Admission]
    /// Intents owned within the tenant's intent window, oldest first (one session per intent across receivers).
    public var intents: [Intent]

    public init(budget: BudgetLedger, live: [Reservation] = [], recent: [Admission] = [], intents: [Intent] = []) {
        self.budget = budget
        self.live = live
        self.recent = recent
        self.intents = intents
    }

    /// The rate window: a session counts toward `sessionsPerMinute` for this long after its admission.
    public static let window: TimeInterval = 60

    public struct Limits: Sendable, Hashable {
        public var maxConcurrentSessions: Int
        public var sessionsPerMinute: Int
        public init(maxConcurrentSessions: Int, sessionsPerMinute: Int) {
            self.maxConcurrentSessions = maxConcurrentSessions
            self.sessionsPerMinute = sessionsPerMinute
        }
    }

    public enum Refusal: Error, Sendable, Hashable {
        case concurrency(live: Int, limit: Int)
        case rate(limit: Int, retryAfterSeconds: Int)
        case budget(BudgetLedger.Refusal)
    }

    public enum Decision: Sendable, Hashable {
        /// Reserved: write this ledger.
        case admitted(SharedLedger)
        /// The session holds a reservation already (a redelivery, perhaps to another replica): nothing to write.
        case alreadyReserved
        /// Another session owns the request's intent within the intent window: that session answers, nothing to write.
        case duplicate(session: String)
        case refused(Refusal)
    }

    public func isLive(_ session: String, namespace: String) -> Bool { live.contains { $0.session == session && $0.namespace == namespace } }

    /// The session owning `intent`, when it was admitted less than `window` seconds before `now`.
    public func owner(of intent: String, now: Date, window: TimeInterval) -> String? {
        intents.last { $0.key == intent && now.timeIntervalSince($0.at) < window }?.session
    }

    /// Reserves `cost` and a slot of `namespace` for `session` at `now`, or says which limit refuses it (concurrency,
    /// then rate, then budget, as the per-process admission checks them). The limits count `namespace`'s entries; the
    /// budget is the whole ledger's. With `intent`, a session that owns it within `intentWindow` answers instead, and
    /// an admitted session takes it (intents past the window are pruned). The new entries are stamped `stamp` (default
    /// `now`): a writer that knows the time only within bounds decides at the earliest and stamps at the latest, so
    /// entries count for at least their window.
    public func admitting(_ session: String, namespace: String, cost: Amount, limits: Limits, now: Date, stamp: Date? = nil,
                          intent: String? = nil, intentWindow: TimeInterval = 0) -> Decision {
        let stamp = stamp ?? now
        let mine: (String, String) -> Bool = { $0 == session && $1 == namespace }
        if isLive(session, namespace: namespace) || recent.contains(where: { mine($0.session, $0.namespace) }) { return .alreadyReserved }
        if let intent, let owner = owner(of: intent, now: now, window: intentWindow) {
            return owner == session ? .alreadyReserved : .duplicate(session: owner)
        }
        var next = self
        next.recent.removeAll { now.timeIntervalSince($0.at) >= Self.window }
        let live = next.live.filter { $0.namespace == namespace }.count
        let recent = next.recent.filter { $0.namespace == namespace }
        if live >= limits.maxConcurrentSessions { return .refused(.concurrency(live: live, limit: limits.maxConcurrentSessions)) }
        if recent.count >= limits.sessionsPerMinute, let oldest = recent.first {
            let wait = max(1, Int((Self.window - now.timeIntervalSince(oldest.at)).rounded(.up)))
            return .refused(.rate(limit: limits.sessionsPerMinute, retryAfterSeconds: wait))
        }
        do {
            next.budget = try next.budget.reserving(cost, now: now)
        } catch {
            return .refused(.budget(error))
        }
        next.live.append(Reservation(session: session, namespace: namespace, cost: cost, month: next.budget.month, at: stamp))
        next.recent.append(Admission(session: session, namespace: namespace, at: stamp))
        // Every admission prunes the intents past the window, with or without an intent of its own.
        next.intents.removeAll { $0.key == intent || now.timeIntervalSince($0.at) >= intentWindow }
        if let intent { next.intents.append(Intent(key: intent, session: session, at: stamp)) }
        return .admitted(next)
    }

    /// The session reached a final phase: its reservation moves to spent at `actual` (nil: released, it never ran)
    /// and its slot frees. Nil when it holds no reservation any more (settled already): nothing to write.
    /// With `uid`, the budget remembers the settlement (`BudgetLedger.settled`), as a journal-admitted Session's is.
    public func finishing(_ session: String, namespace: String, actual: Amount?, now: Date, uid: String? = nil) -> SharedLedger? {
        guard let index = live.firstIndex(where: { $0.session == session && $0.namespace == namespace }) else { return nil }
        var next = self
        let reservation = next.live.remove(at: index)
        next.budget = next.budget.settling(reservation: reservation.cost, reservedIn: reservation.month, actual: actual ?? Amount(micros: 0), now: now,
                                            session: uid)
        return next
    }

    /// Gives back reservations no Session holds: a receiver killed between its reservation and its journal, or a
    /// Session that reached a final phase without the controller settling it (the controller settles before it writes
    /// the final phase). `holds` (the Session exists in `namespace` and is not final) is asked only about `namespace`'s
    /// reservations older than `grace`; nil when nothing changes.
    public func reaping(olderThan grace: TimeInterval, now: Date, namespace: String, holds: (String) -> Bool) -> SharedLedger? {
        let orphans = live.filter { $0.namespace == namespace && now.timeIntervalSince($0.at) >= grace && !holds($0.session) }.map(\.session)
        guard !orphans.isEmpty else { return nil }
        var next = self
        for session in orphans { next = next.withdrawing(session, namespace: namespace) }
        return next
    }

    /// Takes back a reservation made moments ago (its delivery was not journaled after all): budget, slot, rate and intent.
    public func withdrawing(_ session: String, namespace: String) -> SharedLedger {
        var next = self
        if let index = next.live.firstIndex(where: { $0.session == session && $0.namespace == namespace }) {
            let reservation = next.live.remove(at: index)
            if reservation.month == next.budget.month {
                next.budget.reserved = Amount(micros: max(0, next.budget.reserved.micros - reservation.cost.micros))
            }
        }
        next.recent.removeAll { $0.session == session && $0.namespace == namespace }
        next.intents.removeAll { $0.session == session }
        return next
    }

    // MARK: JSON (NamespacePolicy.status)

    public var admissionJSON: JSON {
        ["live": .array(live.map { ["session": .string($0.session), "namespace": .string($0.namespace), "cost": .string($0.cost.description),
                                    "month": .string($0.month), "at": .string(Timestamp.microTime($0.at))] }),
         "recent": .array(recent.map { ["session": .string($0.session), "namespace": .string($0.namespace), "at": .string(Timestamp.microTime($0.at))] }),
         "intents": .array(intents.map { ["key": .string($0.key), "session": .string($0.session), "at": .string(Timestamp.microTime($0.at))] })]
    }

    /// A merge patch of `status.budget` and `status.admission` that applies only at `resourceVersion` (409 otherwise).
    /// The lists are replaced whole (merge patch replaces arrays), so a removed entry is gone.
    public func statusPatch(resourceVersion: String) -> JSON {
        // The budget as BudgetLedger patches it (an emptied `settled` list is sent, or the merge patch would keep the old one).
        ["metadata": ["resourceVersion": .string(resourceVersion)],
         "status": ["budget": budget.statusPatch(resourceVersion: resourceVersion)["status"]?["budget"] ?? budget.json, "admission": admissionJSON]]
    }

    /// Reads `status` of the NamespacePolicy of `namespace`, whose monthly budget is `monthly` (a policy without one
    /// starts empty at `now`). An entry that names no namespace (written before ledgers were per tenant) is `namespace`'s.
    public init(status: JSON?, monthly: Amount, now: Date, namespace: String) throws(BudgetLedger.ParseError) {
        if let budget = status?["budget"], budget != .null {
            self.budget = try BudgetLedger(json: budget, monthly: monthly)
        } else {
            self.budget = BudgetLedger.empty(monthly: monthly, now: now)
        }
        let admission = status?["admission"]
        live = (admission?["live"]?.arrayValue ?? []).compactMap { entry in
            guard let session = entry["session"]?.stringValue, let cost = entry["cost"]?.stringValue.flatMap(Amount.init),
                  let month = entry["month"]?.stringValue, let at = entry["at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
            return Reservation(session: session, namespace: entry["namespace"]?.stringValue ?? namespace, cost: cost, month: month, at: at)
        }
        recent = (admission?["recent"]?.arrayValue ?? []).compactMap { entry in
            guard let session = entry["session"]?.stringValue, let at = entry["at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
            return Admission(session: session, namespace: entry["namespace"]?.stringValue ?? namespace, at: at)
        }
        intents = (admission?["intents"]?.arrayValue ?? []).compactMap { entry in
            guard let key = entry["key"]?.stringValue, let session = entry["session"]?.stringValue,
                  let at = entry["at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
            return Intent(key: key, session: session, at: at)
        }
    }
}
