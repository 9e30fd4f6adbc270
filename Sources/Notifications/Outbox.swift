import Foundation
import Model
import Support

/// Where a delivery goes: one of the tenant's webhooks, or the answer on the session's origin.
public enum DeliveryTarget: Sendable, Hashable, CustomStringConvertible {
    case webhook(url: String, secret: SecretReference?)
    case github, jira, slack

    /// The column value; with the intent key it makes a row unique. A webhook is named by its URL.
    var column: String {
        switch self {
        case .webhook(let url, _): return "webhook " + url
        case .github: return "github"
        case .jira: return "jira"
        case .slack: return "slack"
        }
    }

    public var description: String {
        if case .webhook(let url, _) = self { return "webhook \(AddressPolicy.display(url))" }
        return column
    }

    public var isOrigin: Bool { if case .webhook = self { return false }; return true }
}

/// One row of the outbox: an intent to tell one target about one event, with its stable delivery id.
public struct OutboxEntry: Sendable, Hashable {
    public var sequence: Int64
    public var delivery: String
    public var intent: String
    /// `namespace/session` (or the tenant, for a budget threshold): origin answers for the same subject replace
    /// each other, newest wins.
    public var subject: String
    public var event: NotificationEvent
    public var target: DeliveryTarget
    /// The exact bytes sent (and signed) on every attempt.
    public var body: [UInt8]
    public var origin: SessionOrigin?
    public var attempts: Int
    public var nextAttempt: Date
    public var state: State

    public enum State: String, Sendable, Hashable { case pending, delivered, failed, superseded }
}

/// The durable outbox (SQLite, WAL, `synchronous=FULL`): an intent recorded here survives a restart or a kill -9,
/// and `UNIQUE(intent, target)` makes recording it again a no-op that keeps the first delivery id.
/// Thread-safe: one lock around the one connection.
public final class Outbox: @unchecked Sendable {
    // Unchecked: every use of `db` holds `lock`.
    private let db: SQLiteDatabase
    private let lock = NSLock()

    public init(path: String) throws(SQLiteError) {
        db = try SQLiteDatabase(path: path)
        try db.makeDurable()
        try db.execute("""
            CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                delivery TEXT NOT NULL UNIQUE,
                intent TEXT NOT NULL,
                subject TEXT NOT NULL,
                event TEXT NOT NULL,
                target TEXT NOT NULL,
                secret TEXT,
                body TEXT NOT NULL,
                origin TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at INTEGER NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                last_error TEXT,
                UNIQUE(intent, target));
            CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_at);
            CREATE TABLE IF NOT EXISTS origin_state (
                subject TEXT NOT NULL, target TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(subject, target));
            """)
    }

    @discardableResult
    private func locked<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Adds the intents in one transaction; those already there are left as they are. Returns the delivery ids
    /// of all of them, new or old.
    @discardableResult
    func add(_ rows: [(intent: String, subject: String, event: NotificationEvent, target: DeliveryTarget, body: [UInt8], origin: SessionOrigin?)],
             now: Date) throws(SQLiteError) -> [String] {
        try locked { () throws(SQLiteError) -> [String] in
            try db.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                var ids: [String] = []
                for row in rows {
                    var secret: SQLiteValue = .null
                    if case .webhook(_, let reference?) = row.target { secret = .text("\(reference.namespace)/\(reference.name)/\(reference.key)") }
                    try db.query("""
                        INSERT OR IGNORE INTO outbox (delivery, intent, subject, event, target, secret, body, origin, next_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, [.text(UUID().uuidString.lowercased()), .text(row.intent), .text(row.subject), .text(row.event.rawValue),
                              .text(row.target.column), secret, .text(String(decoding: row.body, as: UTF8.self)),
                              row.origin.map { .text($0.json.compactText) } ?? .null, .integer(Self.millis(now))])
                    let found = try db.query("SELECT delivery FROM outbox WHERE intent = ? AND target = ?", [.text(row.intent), .text(row.target.column)])
                    ids.append(found.first?.first?.text ?? "")
                }
                try db.execute("COMMIT")
                return ids
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// The pending rows due at `now`, oldest first.
    public func due(at now: Date) throws(SQLiteError) -> [OutboxEntry] {
        try locked { () throws(SQLiteError) -> [OutboxEntry] in
            try db.query("\(Self.select) WHERE state = 'pending' AND next_at <= ? ORDER BY seq", [.integer(Self.millis(now))]).compactMap(Self.entry)
        }
    }

    /// Every row, oldest first (for `tenantry` diagnostics and tests).
    public func all() throws(SQLiteError) -> [OutboxEntry] {
        try locked { () throws(SQLiteError) -> [OutboxEntry] in try db.query("\(Self.select) ORDER BY seq").compactMap(Self.entry) }
    }

    /// The earliest time a pending row is due, if any: how long a delivery loop may sleep.
    public func nextDue() throws(SQLiteError) -> Date? {
        try locked { () throws(SQLiteError) -> Date? in
            try db.query("SELECT MIN(next_at) FROM outbox WHERE state = 'pending'").first?.first?.integer.map(Self.date)
        }
    }

    /// Whether a newer origin row for the same subject and target exists (it will say where the session is now).
    func isSuperseded(_ entry: OutboxEntry) throws(SQLiteError) -> Bool {
        try locked { () throws(SQLiteError) -> Bool in
            try !db.query("SELECT 1 FROM outbox WHERE subject = ? AND target = ? AND seq > ? AND state != 'superseded' LIMIT 1",
                          [.text(entry.subject), .text(entry.target.column), .integer(entry.sequence)]).isEmpty
        }
    }

    func finish(_ entry: OutboxEntry, attempts: Int, state: OutboxEntry.State, nextAttempt: Date, error: String?) throws(SQLiteError) {
        try locked { () throws(SQLiteError) in
            try db.query("UPDATE outbox SET attempts = ?, state = ?, next_at = ?, last_error = ? WHERE seq = ?",
                         [.integer(Int64(attempts)), .text(state.rawValue), .integer(Self.millis(nextAttempt)),
                          error.map(SQLiteValue.text) ?? .null, .integer(entry.sequence)])
        }
    }

    /// What an origin answer remembers between writes: the GitHub comment id, the Slack message `ts`.
    func remembered(subject: String, target: DeliveryTarget) throws(SQLiteError) -> String? {
        try locked { () throws(SQLiteError) -> String? in
            try db.query("SELECT value FROM origin_state WHERE subject = ? AND target = ?", [.text(subject), .text(target.column)]).first?.first?.text
        }
    }

    func remember(subject: String, target: DeliveryTarget, value: String) throws(SQLiteError) {
        try locked { () throws(SQLiteError) in
            try db.query("INSERT OR REPLACE INTO origin_state (subject, target, value) VALUES (?, ?, ?)",
                         [.text(subject), .text(target.column), .text(value)])
        }
    }

    private static let select = "SELECT seq, delivery, intent, subject, event, target, secret, body, origin, attempts, next_at, state FROM outbox"

    private static func entry(_ row: [SQLiteValue]) -> OutboxEntry? {
        guard row.count == 12, let seq = row[0].integer, let delivery = row[1].text, let intent = row[2].text,
              let subject = row[3].text, let event = row[4].text.flatMap(NotificationEvent.init(rawValue:)),
              let targetText = row[5].text, let body = row[7].text, let attempts = row[9].integer,
              let next = row[10].integer, let state = row[11].text.flatMap(OutboxEntry.State.init(rawValue:)) else { return nil }
        let target: DeliveryTarget
        switch targetText {
        case "github": target = .github
        case "jira": target = .jira
        case "slack": target = .slack
        default:
            guard targetText.hasPrefix("webhook ") else { return nil }
            let parts = row[6].text?.split(separator: "/", maxSplits: 2).map(String.init)
            let secret = parts.flatMap { $0.count == 3 ? SecretReference(namespace: $0[0], name: $0[1], key: $0[2]) : nil }
            target = .webhook(url: String(targetText.dropFirst("webhook ".count)), secret: secret)
        }
        let origin = row[8].text.flatMap { try? JSON(parsing: $0) }.flatMap(SessionOrigin.init(json:))
        return OutboxEntry(sequence: seq, delivery: delivery, intent: intent, subject: subject, event: event, target: target,
                           body: Array(body.utf8), origin: origin, attempts: Int(attempts), nextAttempt: date(next), state: state)
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
