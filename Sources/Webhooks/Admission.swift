import Foundation
import Model

/// A session the service wants to admit: who, where, with which model and tools, at what estimated cost.
public struct AdmissionRequest: Sendable, Hashable {
    /// `source:deliveryId`: the dedupe key.
    public var deliveryKey: String
    public var sessionName: String
    public var tenant: String
    public var namespace: String
    public var model: String
    public var tools: [String]
    public var estimatedCost: Amount
    public var policy: NamespacePolicy
    /// The tenant's monthly budget (shared by all its namespaces).
    public var budget: Budget
    /// The Session object to create, as JSON.
    public var object: JSONObject
    /// IntentWindow.key of the delivery: within the namespace's intent window, one session per intent.
    public var intent: String?
    /// Budget, concurrency and rate are decided on the cluster's shared ledger (`ClusterAdmission`), not here.
    public var limitsShared = false

    public init(deliveryKey: String, sessionName: String, tenant: String, namespace: String, model: String, tools: [String],
                estimatedCost: Amount, policy: NamespacePolicy, budget: Budget, object: JSONObject, intent: String? = nil) {
        self.intent = intent
        self.deliveryKey = deliveryKey
        self.sessionName = sessionName
        self.tenant = tenant
        self.namespace = namespace
        self.model = model
        self.tools = tools
        self.estimatedCost = estimatedCost
        self.policy = policy
        self.budget = budget
        self.object = object
    }
}

public enum AdmissionDecision: Sendable, Hashable {
    case admitted(session: String)
    /// The delivery was seen before: the same session, nothing new.
    case duplicate(session: String)
    case refused(WebhookFailure)
}

/// One tenant's spending this month, in millionths of the currency.
public struct LedgerEntry: Sendable, Hashable {
    public var month: String
    public var reserved: Int64
    public var spent: Int64
}

/// The admission rules as a pure state machine: dedupe, model and tool allow-lists, concurrency, rate per
/// minute, and the monthly budget ledger. The journal's committer thread owns the one instance, decides a
/// batch, persists it, and restores the copy it took if the write fails.
public struct AdmissionState: Sendable {
    /// Delivery key → session name, for every delivery ever admitted.
    public var deliveries: [String: String] = [:]
    /// Tenant → this month's ledger.
    public var ledger: [String: LedgerEntry] = [:]
    /// Namespace → admission times within the last minute.
    public var recent: [String: RateWindow] = [:]
    /// Namespace → Sessions not in a final phase (the cluster's view merged with ours).
    public var live: [String: Set<String>] = [:]
    /// Intent → the session that owns it (one session per intent within the intent window).
    public var intents = IntentWindow()

    public init() {}

    /// `2026-11`: the UTC month a ledger entry belongs to.
    static func month(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900, month = Int(parts.tm_mon) + 1
        return "\(year)-" + (month < 10 ? "0\(month)" : "\(month)")
    }

    public func ledger(tenant: String, now: Date) -> LedgerEntry {
        let month = Self.month(now)
        if let entry = ledger[tenant], entry.month == month { return entry }
        return LedgerEntry(month: month, reserved: 0, spent: 0)
    }

    /// Every rule the request breaks, in the order they are checked (the dry run lists them all).
    public func violations(_ request: AdmissionRequest, now: Date) -> [WebhookFailure] {
        var found: [WebhookFailure] = []
        let policy = request.policy.policy
        if !policy.models.allowed.contains(request.model) || policy.models.blocked.contains(request.model) {
            let why = policy.models.blocked.contains(request.model) ? "is blocked" : "is not allowed"
            found.append(.policy("model \(request.model) \(why) in namespace \(request.namespace); allowed: \(policy.models.allowed.joined(separator: ", "))",
                                 rule: "models", details: ["model": .string(request.model), "allowed": .strings(policy.models.allowed)]))
        }
        let badTools = request.tools.filter { !policy.tools.allowed.contains($0) || policy.tools.blocked.contains($0) }
        if !badTools.isEmpty {
            found.append(.policy("tools not allowed in namespace \(request.namespace): \(badTools.joined(separator: ", ")); allowed: \(policy.tools.allowed.joined(separator: ", "))",
                                 rule: "tools", details: ["tools": .strings(badTools), "allowed": .strings(policy.tools.allowed)]))
        }
        // With the limits shared, the cluster's ledger has decided them (exactly, across replicas); only the
        // allow-lists are this process's to check.
        guard !request.limitsShared else { return found }
        let live = self.live[request.namespace]?.count ?? 0
        if live >= policy.maxConcurrentSessions {
            found.append(.policy("namespace \(request.namespace) already runs \(live) sessions, its limit (maxConcurrentSessions); wait for one to finish",
                                 rule: "maxConcurrentSessions", details: ["live": .int(live), "limit": .int(policy.maxConcurrentSessions)]))
        }
        var window = recent[request.namespace] ?? RateWindow()
        window.drop(before: now.addingTimeInterval(-60))
        if window.count >= policy.sessionsPerMinute, let oldest = window.oldest {
            let wait = max(1, Int((60 - now.timeIntervalSince(oldest)).rounded(.up)))
            found.append(WebhookFailure(429, .rateLimitExceeded,
                                        "namespace \(request.namespace) may start \(policy.sessionsPerMinute) sessions a minute and has; retry in \(wait) s",
                                        details: ["limit": .int(policy.sessionsPerMinute), "retryAfterSeconds": .int(wait)], retryAfter: wait))
        }
        let entry = ledger(tenant: request.tenant, now: now)
        let used = entry.reserved + entry.spent
        let left = max(0, request.budget.monthly.micros - used)
        if used + request.estimatedCost.micros > request.budget.monthly.micros {
            let currency = request.budget.currency
            found.append(.policy("tenant \(request.tenant) has \(Amount(micros: left)) \(currency) left of its \(request.budget.monthly) \(currency) budget for \(entry.month); this session is estimated at \(request.estimatedCost) \(currency)",
                                 rule: "budget",
                                 details: ["remaining": .string(Amount(micros: left).description), "monthly": .string(request.budget.monthly.description),
                                           "reserved": .string(Amount(micros: entry.reserved).description),
                                           "spent": .string(Amount(micros: entry.spent).description),
                                           "estimatedCost": .string(request.estimatedCost.description), "currency": .string(currency),
                                           "month": .string(entry.month)]))
        }
        return found
    }

    /// The session a request repeats: the same delivery id, or the same intent within the namespace's window.
    public func duplicate(of request: AdmissionRequest, now: Date) -> String? {
        if let existing = deliveries[request.deliveryKey] { return existing }
        guard let intent = request.intent else { return nil }
        return intents.owner(of: intent, now: now, window: request.policy.triggers.intentWindowSeconds)
    }

    /// Dedupe first (a redelivery gets its session back even if the tenant is now over budget), then the rules;
    /// an admitted request reserves its cost, counts toward the rate and becomes live.
    public mutating func decide(_ request: AdmissionRequest, now: Date) -> AdmissionDecision {
        if let existing = duplicate(of: request, now: now) { return .duplicate(session: existing) }
        if let first = violations(request, now: now).first { return .refused(first) }
        deliveries[request.deliveryKey] = request.sessionName
        if let intent = request.intent { intents.record(intent, session: request.sessionName, at: now) }
        var entry = ledger(tenant: request.tenant, now: now)
        entry.reserved += request.estimatedCost.micros
        ledger[request.tenant] = entry
        var window = recent[request.namespace] ?? RateWindow()
        window.drop(before: now.addingTimeInterval(-60))
        window.append(now)
        recent[request.namespace] = window
        live[request.namespace, default: []].insert(request.sessionName)
        return .admitted(session: request.sessionName)
    }

    /// Takes back the most recent admissions (latest first) when their batch could not be written.
    /// Cheaper than keeping a copy of the whole state, whose dedupe table grows with every delivery.
    public mutating func undo(_ admitted: [AdmissionRequest], now: Date) {
        for request in admitted.reversed() {
            deliveries[request.deliveryKey] = nil
            if let intent = request.intent { intents.remove(intent) }
            live[request.namespace]?.remove(request.sessionName)
            recent[request.namespace]?.removeLast()
            var entry = ledger(tenant: request.tenant, now: now)
            entry.reserved -= request.estimatedCost.micros
            ledger[request.tenant] = entry
        }
    }
}

/// Admission times in order, oldest first; dropping old ones is amortised O(1), so a namespace admitting
/// hundreds of sessions a second does not rescan its whole minute on every request.
public struct RateWindow: Sendable, Hashable {
    private var times: [Date] = []
    private var head = 0

    public init() {}

    public var count: Int { times.count - head }
    public var oldest: Date? { head < times.count ? times[head] : nil }

    public mutating func append(_ time: Date) { times.append(time) }

    public mutating func removeLast() { if count > 0 { times.removeLast() } }

    /// Forgets times before `limit` (strictly older than the window).
    public mutating func drop(before limit: Date) {
        while head < times.count, times[head] <= limit { head += 1 }
        if head > 1024, head * 2 > times.count {
            times.removeFirst(head)
            head = 0
        }
    }
}
