import Foundation
import Model
import Support

/// Where a journal entry stands: accepted and its Session not known to exist (`pending`), the Session exists
/// (`done`), or the API server refused it for good (`failed`). The raw value is the `state` column.
public enum JournalState: String, Sendable, Hashable, CaseIterable {
    case pending, done, failed
}

/// An accepted delivery whose Session may not exist yet.
public struct JournalEntry: Sendable, Hashable {
    public var deliveryKey: String
    public var session: String
    public var namespace: String
    public var tenant: String
    public var object: JSONObject
    public var approvalRequired: Bool
}

/// The durable record of accepted deliveries, in SQLite (WAL, synchronous=FULL), with group commit:
/// every request waiting when the committer wakes is decided (AdmissionState) and written in one
/// transaction, so one fsync covers them all, and only then answered. An entry stays `pending` until
/// its Session exists; `unfinished()` lists what a restart must replay.
public final class Journal: @unchecked Sendable {
    public let path: String
    private let connection: SQLiteDatabase
    /// Serialises use of `connection`. The committer holds it (not `condition`) while it writes, so
    /// requests keep queueing during the fsync and form the next group.
    private let database = NSLock()
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Work] = []
    private var stopping = false
    private var state = AdmissionState()
    private var pendingCount = 0
    private var committed: UInt64 = 0
    private var commits: UInt64 = 0
    private var largestGroup = 0
    private var held = false
    private let clock: @Sendable () -> Date
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    private enum Work {
        case admit(AdmissionRequest, Box)
        case created(String)
        case failed(String, String)
        case settle(String, Amount)
    }

    /// One waiting request's answer.
    private final class Box: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        var decision: AdmissionDecision = .refused(WebhookFailure(503, .unavailable, "not decided"))
    }

    public init(path: String, clock: WallClock = .system) throws(SQLiteError) {
        self.path = path
        self.clock = clock.now
        connection = try SQLiteDatabase(path: path)
        try connection.makeDurable()
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS deliveries(
              key TEXT PRIMARY KEY, session TEXT NOT NULL, namespace TEXT NOT NULL, tenant TEXT NOT NULL,
              object TEXT NOT NULL, approval INTEGER NOT NULL, state TEXT NOT NULL, month TEXT NOT NULL,
              cost INTEGER NOT NULL, received INTEGER NOT NULL, error TEXT, settled INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries(state);
            CREATE TABLE IF NOT EXISTS intents(key TEXT PRIMARY KEY, session TEXT NOT NULL, admitted INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS ledger(
              tenant TEXT NOT NULL, month TEXT NOT NULL, reserved INTEGER NOT NULL, spent INTEGER NOT NULL,
              PRIMARY KEY(tenant, month));
            """)
        let month = AdmissionState.month(clock.now())
        for row in try connection.query("SELECT key, session, namespace, state FROM deliveries") {
            guard let key = row[0].text, let session = row[1].text, let namespace = row[2].text else { continue }
            state.deliveries[key] = session
            if row[3].text == JournalState.pending.rawValue {
                state.live[namespace, default: []].insert(session)
                pendingCount += 1
            }
        }
        // Intents older than the longest window can never answer again: forgotten here, on disk and in memory.
        let oldest = Int64(clock.now().timeIntervalSince1970) - Triggers.maxIntentWindow.seconds
        try connection.query("DELETE FROM intents WHERE admitted < ?", [.integer(oldest)])
        for row in try connection.query("SELECT key, session, admitted FROM intents") {
            guard let key = row[0].text, let session = row[1].text, let admitted = row[2].integer else { continue }
            state.intents.record(key, session: session, at: Date(timeIntervalSince1970: Double(admitted)))
        }
        for row in try connection.query("SELECT tenant, reserved, spent FROM ledger WHERE month = ?", [.text(month)]) {
            guard let tenant = row[0].text else { continue }
            state.ledger[tenant] = LedgerEntry(month: month, reserved: row[1].integer ?? 0, spent: row[2].integer ?? 0)
        }
        let thread = Thread { [unowned self] in self.commitLoop() }
        thread.name = "webhook-journal"
        self.thread = thread
        thread.start()
    }

    /// Stops the committer after the work already queued; waiters are answered, later submissions get 503.
    /// Required: the committer thread runs `commitLoop` on this journal, which keeps it alive until then (a
    /// `deinit` could never run first), so the owner (WebhookServer.stop) closes it. Safe to call twice.
    public func close() {
        condition.lock()
        let wasRunning = !stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    // MARK: Requests

    /// Decides and, if admitted, durably records the request; returns once the decision is on disk.
    public func submit(_ request: AdmissionRequest) -> AdmissionDecision {
        let box = Box()
        condition.lock()
        guard !stopping else {
            condition.unlock()
            return .refused(WebhookFailure(503, .unavailable, "the server is shutting down; retry shortly", retryAfter: 5))
        }
        queue.append(.admit(request, box))
        condition.signal()
        condition.unlock()
        box.semaphore.wait()
        return box.decision
    }

    /// The rules the request would break now, without recording anything (the validate endpoint).
    public func check(_ request: AdmissionRequest) -> (duplicate: String?, violations: [WebhookFailure]) {
        condition.lock()
        defer { condition.unlock() }
        let now = clock()
        return (state.duplicate(of: request, now: now), state.violations(request, now: now))
    }

    /// The Session exists: the entry is done. Written with the next commit, or alone a quarter second later
    /// (a mark lost in a crash only means a replay that meets AlreadyExists).
    public func markCreated(_ session: String) { enqueue(.created(session)) }

    /// The API server refused the Session for good (e.g. invalid): the entry is failed and its reservation released.
    public func markFailed(_ session: String, message: String) { enqueue(.failed(session, message)) }

    /// Moves a session's reservation to spent, at its actual cost (the controller reports it when the session ends).
    public func settle(_ session: String, actualCost: Amount) { enqueue(.settle(session, actualCost)) }

    /// The Session reached a final phase (the session controller says so the moment it writes it): it no longer
    /// counts toward `maxConcurrentSessions`, without waiting for the next listing.
    public func markFinished(namespace: String, session: String) {
        condition.withLock { _ = state.live[namespace]?.remove(session) }
    }

    /// Replaces the live Sessions of `namespace` with what the cluster reports, keeping pending entries.
    public func setLive(namespace: String, sessions: Set<String>) {
        let pending = database.withLock {
            (try? connection.query("SELECT session FROM deliveries WHERE state = '\(JournalState.pending.rawValue)' AND namespace = ?", [.text(namespace)])) ?? []
        }
        condition.withLock { state.live[namespace] = sessions.union(pending.compactMap { $0[0].text }) }
    }

    private func enqueue(_ work: Work) {
        condition.lock()
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    // MARK: Reads

    /// Entries whose Session is not known to exist, oldest first: replayed at start.
    public func unfinished() throws(SQLiteError) -> [JournalEntry] {
        database.lock()
        defer { database.unlock() }
        return try connection.query("SELECT key, session, namespace, tenant, object, approval FROM deliveries WHERE state = '\(JournalState.pending.rawValue)' ORDER BY received, rowid")
            .compactMap { row in
                guard let key = row[0].text, let session = row[1].text, let namespace = row[2].text, let tenant = row[3].text,
                      let text = row[4].text, let object = (try? JSON(parsing: text))?.objectValue else { return nil }
                return JournalEntry(deliveryKey: key, session: session, namespace: namespace, tenant: tenant, object: object,
                                    approvalRequired: row[5].integer == 1)
            }
    }

    /// Pending entries (accepted, Session not yet confirmed).
    public var depth: Int { condition.withLock { pendingCount } }

    /// Admitted deliveries written, and transactions (fsyncs) used to write them.
    public var commitStatistics: (entries: UInt64, commits: UInt64) { condition.withLock { (committed, commits) } }

    /// The most admitted deliveries one transaction (one fsync) has written.
    public var largestCommitGroup: Int { condition.withLock { largestGroup } }

    /// Keeps the committer from taking work until `releaseCommits()`: requests queue (and wait), so a test
    /// can make a group of known size.
    func holdCommits() { condition.withLock { held = true } }

    func releaseCommits() {
        condition.withLock {
            held = false
            condition.signal()
        }
    }

    /// Admissions queued for the committer and not yet decided.
    var waitingAdmissions: Int {
        condition.withLock { queue.filter { if case .admit = $0 { true } else { false } }.count }
    }

    public func ledger(tenant: String) -> LedgerEntry { condition.withLock { state.ledger(tenant: tenant, now: clock()) } }

    /// The stored state of one delivery's entry: pending, done or failed; nil if unknown.
    public func entryState(session: String) -> JournalState? {
        database.withLock {
            (try? connection.query("SELECT state FROM deliveries WHERE session = ?", [.text(session)]))?.first?[0].text.flatMap(JournalState.init(rawValue:))
        }
    }

    // MARK: Committer

    private func commitLoop() {
        while true {
            condition.lock()
            // Work that wakes the committer is written at once; "created" marks ride along, or go alone
            // a quarter second after the first of them arrived.
            var markDeadline: Date?
            while !stopping {
                if queue.isEmpty || held { condition.wait(); continue }
                if queue.contains(where: { if case .created = $0 { false } else { true } }) { break }
                let deadline = markDeadline ?? Date().addingTimeInterval(0.25)
                markDeadline = deadline
                if !condition.wait(until: deadline) { break }
            }
            if queue.isEmpty && stopping {
                condition.unlock()
                finished.signal()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let now = clock()
            var answers: [(Box, AdmissionDecision)] = []
            var admitted: [AdmissionRequest] = []
            for work in batch {
                if case .admit(let request, let box) = work {
                    let decision = state.decide(request, now: now)
                    if case .admitted = decision { admitted.append(request) }
                    answers.append((box, decision))
                }
            }
            var effects = WriteEffects(ledger: state.ledger)
            condition.unlock()

            database.lock()
            var failure: SQLiteError?
            do {
                try write(batch: batch, admitted: admitted, now: now, effects: &effects)
            } catch {
                try? connection.execute("ROLLBACK")
                failure = error
            }
            // The counters change before the rows can be read (database, then condition: no path takes them
            // the other way round), so `depth` never lags behind `entryState`.
            condition.lock()
            database.unlock()
            if let failure {
                state.undo(admitted, now: now)
                let refusal = WebhookFailure(503, .unavailable, "the webhook journal could not be written (\(failure.description)); retry shortly", retryAfter: 5)
                answers = answers.map { ($0.0, .refused(refusal)) }
            } else {
                // Only this thread changes the ledger, so the written view is the current one.
                state.ledger = effects.ledger
                for (namespace, session) in effects.noLongerLive { state.live[namespace]?.remove(session) }
                pendingCount += admitted.count - effects.finished
                committed += UInt64(admitted.count)
                commits += 1
                largestGroup = max(largestGroup, admitted.count)
            }
            condition.unlock()
            for (box, decision) in answers {
                box.decision = decision
                box.semaphore.signal()
            }
        }
    }

    /// What a write changed besides the rows: the ledger as written, entries no longer pending.
    private struct WriteEffects {
        var ledger: [String: LedgerEntry]
        var finished = 0
        var noLongerLive: [(String, String)] = []

        func entry(_ tenant: String, month: String) -> LedgerEntry {
            if let entry = ledger[tenant], entry.month == month { return entry }
            return LedgerEntry(month: month, reserved: 0, spent: 0)
        }
    }

    /// One transaction for the whole batch; called with `database` held (and not `condition`).
    private func write(batch: [Work], admitted: [AdmissionRequest], now: Date, effects: inout WriteEffects) throws(SQLiteError) {
        try connection.execute("BEGIN IMMEDIATE")
        let month = AdmissionState.month(now)
        var tenants = Set<String>()
        for request in admitted {
            try connection.query("INSERT INTO deliveries(key, session, namespace, tenant, object, approval, state, month, cost, received) VALUES(?, ?, ?, ?, ?, ?, '\(JournalState.pending.rawValue)', ?, ?, ?)",
                                 [.text(request.deliveryKey), .text(request.sessionName), .text(request.namespace), .text(request.tenant),
                                  .text(JSON.object(request.object).compactText), .integer(request.policy.policy.approval.required ? 1 : 0),
                                  .text(month), .integer(request.estimatedCost.micros), .integer(Int64(now.timeIntervalSince1970))])
            tenants.insert(request.tenant)
            if let intent = request.intent {
                try connection.query("INSERT INTO intents(key, session, admitted) VALUES(?, ?, ?) ON CONFLICT(key) DO UPDATE SET session = excluded.session, admitted = excluded.admitted",
                                     [.text(intent), .text(request.sessionName), .integer(Int64(now.timeIntervalSince1970))])
            }
        }
        for work in batch {
            switch work {
            case .admit: break
            case .created(let session):
                let rows = try connection.query("UPDATE deliveries SET state = '\(JournalState.done.rawValue)' WHERE session = ? AND state = '\(JournalState.pending.rawValue)' RETURNING namespace", [.text(session)])
                effects.finished += rows.count
            case .failed(let session, let message):
                let rows = try connection.query("UPDATE deliveries SET state = '\(JournalState.failed.rawValue)', error = ?, settled = 1 WHERE session = ? AND state = '\(JournalState.pending.rawValue)' AND settled = 0 RETURNING tenant, cost, month, namespace",
                                                [.text(message), .text(session)])
                for row in rows {
                    effects.finished += 1
                    if let namespace = row[3].text { effects.noLongerLive.append((namespace, session)) }
                    guard let tenant = row[0].text, let cost = row[1].integer, row[2].text == month else { continue }
                    var entry = effects.entry(tenant, month: month)
                    entry.reserved -= cost
                    effects.ledger[tenant] = entry
                    tenants.insert(tenant)
                }
            case .settle(let session, let actual):
                let rows = try connection.query("UPDATE deliveries SET settled = 1 WHERE session = ? AND settled = 0 RETURNING tenant, cost, month", [.text(session)])
                for row in rows where row[2].text == month {
                    guard let tenant = row[0].text, let cost = row[1].integer else { continue }
                    var entry = effects.entry(tenant, month: month)
                    entry.reserved -= cost
                    entry.spent += actual.micros
                    effects.ledger[tenant] = entry
                    tenants.insert(tenant)
                }
            }
        }
        for tenant in tenants.sorted() {
            let entry = effects.entry(tenant, month: month)
            try connection.query("INSERT INTO ledger(tenant, month, reserved, spent) VALUES(?, ?, ?, ?) ON CONFLICT(tenant, month) DO UPDATE SET reserved = excluded.reserved, spent = excluded.spent",
                                 [.text(tenant), .text(entry.month), .integer(entry.reserved), .integer(entry.spent)])
        }
        try connection.execute("COMMIT")
    }
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
