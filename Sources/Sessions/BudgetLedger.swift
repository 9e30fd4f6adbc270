import Foundation
import Support
import Model

/// One month of a tenant namespace's spending, as kept in `NamespacePolicy.status.budget`
/// (`{month, reserved, spent, remaining}`, amounts as decimal strings). Every operation is a pure function from one
/// ledger to the next, so a writer can re-read the object on a 409 Conflict and apply the same operation again:
/// that compare-and-swap on `resourceVersion` is what keeps several receivers and controllers from overspending.
public struct BudgetLedger: Sendable, Hashable {
    /// `2026-12`: the UTC month the amounts belong to.
    public var month: String
    public var monthly: Amount
    /// Estimates of sessions admitted and not yet settled.
    public var reserved: Amount
    public var spent: Amount
    /// The uids of Sessions whose settlement (or release) is already in this ledger while their own status may not
    /// say so yet: a controller killed between the ledger write and the Session's status write settles again on its
    /// next reconcile, and finds the uid here. Kept across months; pruned once the Session's final status is written.
    public var settled: [String]

    public init(month: String, monthly: Amount, reserved: Amount = Amount(micros: 0), spent: Amount = Amount(micros: 0), settled: [String] = []) {
        self.month = month
        self.monthly = monthly
        self.reserved = reserved
        self.spent = spent
        self.settled = settled
    }

    /// A fresh ledger for the month of `now`.
    public static func empty(monthly: Amount, now: Date) -> BudgetLedger { BudgetLedger(month: Timestamp.month(now), monthly: monthly) }

    /// What is left to reserve; never negative (a settlement above its estimate can overspend, and then nothing is left).
    public var remaining: Amount { Amount(micros: max(0, monthly.micros - reserved.micros - spent.micros)) }
    /// Whether the month is used up or over: no session may start against it.
    public var isExhausted: Bool { reserved.micros + spent.micros >= monthly.micros }

    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public let remaining: Amount
        public let requested: Amount
        public let month: String
        public var description: String {
            "the budget has \(remaining) left for \(month) and this session is estimated at \(requested)"
        }
    }

    /// The same ledger seen at `now`: a new month starts from nothing (the reservations of the last one are dropped
    /// with it; their settlements are charged to the month they happen in).
    public func rolled(to now: Date) -> BudgetLedger {
        let current = Timestamp.month(now)
        return current == month ? self : BudgetLedger(month: current, monthly: monthly, settled: settled)
    }

    /// Reserves a session's estimate, or refuses when it does not fit in what is left.
    public func reserving(_ estimate: Amount, now: Date) throws(Refusal) -> BudgetLedger {
        var next = rolled(to: now)
        guard estimate.micros <= next.remaining.micros else {
            throw Refusal(remaining: next.remaining, requested: estimate, month: next.month)
        }
        next.reserved = Amount(micros: next.reserved.micros + estimate.micros)
        return next
    }

    /// Moves a finished session's reservation to spent at its actual cost. A reservation from an earlier month
    /// is gone with that month; the actual cost is charged to the current one.
    /// With `session` (its uid) the operation happens once: a ledger that already lists the uid is returned as it is.
    public func settling(reservation: Amount, reservedIn reservationMonth: String, actual: Amount, now: Date, session: String? = nil) -> BudgetLedger {
        var next = rolled(to: now)
        if let session {
            guard !next.settled.contains(session) else { return next }
            next.settled.append(session)
        }
        if reservationMonth == next.month {
            next.reserved = Amount(micros: max(0, next.reserved.micros - reservation.micros))
        }
        next.spent = Amount(micros: next.spent.micros + actual.micros)
        return next
    }

    /// Gives a reservation back unspent (the session never ran: policy violation, rejection, approval timeout).
    public func releasing(reservation: Amount, reservedIn reservationMonth: String, now: Date, session: String? = nil) -> BudgetLedger {
        settling(reservation: reservation, reservedIn: reservationMonth, actual: Amount(micros: 0), now: now, session: session)
    }

    /// The ledger without the settled uids `isDone` says no longer need remembering (their Session's final status is
    /// written, or the Session is gone).
    public func pruned(_ isDone: (String) -> Bool) -> BudgetLedger {
        var next = self
        next.settled.removeAll(where: isDone)
        return next
    }

    // MARK: JSON

    public var json: JSON {
        var object: JSONObject = ["month": .string(month), "reserved": .string(reserved.description), "spent": .string(spent.description),
                                  "remaining": .string(remaining.description)]
        if !settled.isEmpty { object["settled"] = .strings(settled) }
        return .object(object)
    }

    /// A JSON merge patch for `namespacepolicies/policy/status` that applies only while the object is still at
    /// `resourceVersion` (the API server answers 409 Conflict otherwise: re-read and apply the operation again).
    public func statusPatch(resourceVersion: String) -> JSON {
        var budget = json
        // Written even when empty: a merge patch leaves out what it does not name, so an emptied list must be sent.
        if budget["settled"] == nil, case .object(var object) = budget { object["settled"] = []; budget = .object(object) }
        return ["metadata": ["resourceVersion": .string(resourceVersion)], "status": ["budget": budget]]
    }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
    }

    /// `remaining` is derived, so it is not read back.
    public init(json: JSON, monthly: Amount) throws(ParseError) {
        guard let month = json["month"]?.stringValue, month.count == 7, month.dropFirst(4).first == "-",
              month.filter(\.isASCIIDigit).count == 6 else {
            throw ParseError(description: "month: Invalid value: a month such as 2026-12")
        }
        func amount(_ key: String) throws(ParseError) -> Amount {
            guard let text = json[key]?.stringValue else { return Amount(micros: 0) }
            guard let value = Amount(text) else { throw ParseError(description: "\(key): Invalid value: \"\(text)\": a decimal amount") }
            return value
        }
        self.init(month: month, monthly: monthly, reserved: try amount("reserved"), spent: try amount("spent"),
                  settled: json["settled"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
