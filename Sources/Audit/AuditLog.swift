import Foundation
import Model
import Support

/// The append-only audit trail in SQLite (WAL, `synchronous=FULL`: each append is fsync'd before
/// `append` returns, so a write can be answered only once its record is on disk). Entries are chained
/// by SHA-256; the table `audit_head` holds the newest entry's hash and `audit_anchor` the hash of the
/// last entry pruned, so `verify` detects an edited, removed or reordered entry, a removed tail, and
/// still verifies after pruning.
public final class AuditLog: @unchecked Sendable {
    // Unchecked: every use of `database` is under `lock`.
    private let lock = NSLock()
    private let database: SQLiteDatabase
    public let path: String
    /// Each appended entry as a JSON line (for cluster log collection), after it is on disk.
    private let lines: (@Sendable (String) -> Void)?
    private var queue: AuditQueue!

    public init(path: String, jsonLines: (@Sendable (String) -> Void)? = nil) throws(SQLiteError) {
        self.path = path
        lines = jsonLines
        database = try SQLiteDatabase(path: path)
        queue = AuditQueue(log: self)
        try database.execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS audit (
                sequence INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, namespace TEXT NOT NULL, session TEXT NOT NULL,
                actor TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, entry TEXT NOT NULL,
                previous TEXT NOT NULL, hash TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_by_namespace ON audit(namespace, sequence);
            CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL, hash TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL, hash TEXT NOT NULL, pruned TEXT NOT NULL);
            """)
    }

    /// Appends and returns the entry once it is durable. Appends that arrive while another commit is on its way
    /// to disk are committed together, in one transaction and one fsync (group commit), so concurrent writers
    /// share the disk's latency instead of queueing behind it one by one.
    @discardableResult
    public func append(_ record: AuditRecord) throws(SQLiteError) -> AuditEntry {
        try queue.append(record)
    }

    /// Queues the record of a read (which need not be durable before it is answered, unlike a write's) and
    /// returns at once: a committer thread writes it with whatever else is queued, in order with every other
    /// entry, within one commit. Throws, and queues nothing, while the trail is failing (the last commit failed),
    /// so reads are refused rather than left unrecorded.
    public func appendSoon(_ record: AuditRecord) throws(SQLiteError) {
        try queue.appendSoon(record)
    }

    /// Writes `records` in order, chained, in one transaction; the JSON lines after the commit.
    func commit(_ records: [AuditRecord]) throws(SQLiteError) -> [AuditEntry] {
        let entries = try locked { () throws(SQLiteError) -> [AuditEntry] in
            try database.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                let head = try database.query("SELECT sequence, hash FROM audit_head WHERE id = 1").first
                var sequence = head?[0].integer ?? 0
                var previous = head?[1].text ?? AuditChain.genesis
                var entries: [AuditEntry] = []
                for record in records {
                    sequence += 1
                    let text = JSON.object(AuditChain.canonical(sequence: sequence, record)).compactText
                    let hash = AuditChain.hash(previous: previous, canonicalText: text)
                    try database.query("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                        .integer(sequence), .text(AuditTime.format(record.timestamp)), .text(record.namespace), .text(record.session),
                        .text(record.actor), .text(record.action), .text(record.outcome), .text(text), .text(previous), .text(hash),
                    ])
                    entries.append(AuditEntry(sequence: sequence, record: record, previousHash: previous, hash: hash))
                    previous = hash
                }
                try database.query("INSERT OR REPLACE INTO audit_head VALUES (1, ?, ?)", [.integer(sequence), .text(previous)])
                try database.execute("COMMIT")
                return entries
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
        for entry in entries { lines?(entry.json.compactText + "\n") }
        return entries
    }

    /// A filtered page, newest first: entries with sequence below `before` (a continue point).
    public func entries(namespace: String, session: String? = nil, actor: String? = nil, action: String? = nil, since: Date? = nil,
                        before: Int64? = nil, limit: Int = 100) throws(SQLiteError) -> [AuditEntry] {
        var sql = "SELECT sequence, entry, previous, hash FROM audit WHERE namespace = ?"
        var parameters: [SQLiteValue] = [.text(namespace)]
        if let session { sql += " AND session = ?"; parameters.append(.text(session)) }
        if let actor { sql += " AND actor = ?"; parameters.append(.text(actor)) }
        if let action { sql += " AND action = ?"; parameters.append(.text(action)) }
        if let since { sql += " AND timestamp >= ?"; parameters.append(.text(AuditTime.format(since))) }
        if let before { sql += " AND sequence < ?"; parameters.append(.integer(before)) }
        sql += " ORDER BY sequence DESC LIMIT ?"
        parameters.append(.integer(Int64(max(1, limit))))
        let rows = try locked { () throws(SQLiteError) in try database.query(sql, parameters) }
        return rows.compactMap { row in
            guard let sequence = row[0].integer, let text = row[1].text, let record = AuditVerifier.record(fromCanonical: text) else { return nil }
            return AuditEntry(sequence: sequence, record: record, previousHash: row[2].text ?? "", hash: row[3].text ?? "")
        }
    }

    /// Removes the oldest entries whose timestamps are before `cutoff` (a prefix of the chain, so the
    /// rest still links up), and records the last removed entry's hash as the anchor. Returns how many.
    @discardableResult
    public func prune(before cutoff: Date, now: Date = Date()) throws(SQLiteError) -> Int {
        try locked { () throws(SQLiteError) -> Int in
            try database.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                let firstKept = try database.query("SELECT MIN(sequence) FROM audit WHERE timestamp >= ?", [.text(AuditTime.format(cutoff))]).first?[0].integer
                let newest = try database.query("SELECT MAX(sequence) FROM audit").first?[0].integer ?? 0
                let last = firstKept.map { $0 - 1 } ?? newest
                guard let doomed = try database.query("SELECT hash FROM audit WHERE sequence = ?", [.integer(last)]).first?[0].text else {
                    try database.execute("ROLLBACK")
                    return 0
                }
                let count = try database.query("SELECT COUNT(*) FROM audit WHERE sequence <= ?", [.integer(last)]).first?[0].integer ?? 0
                try database.query("DELETE FROM audit WHERE sequence <= ?", [.integer(last)])
                try database.query("INSERT OR REPLACE INTO audit_anchor VALUES (1, ?, ?, ?)", [.integer(last), .text(doomed), .text(AuditTime.format(now))])
                try database.execute("COMMIT")
                return Int(count)
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Checks the whole chain from the anchor (or the beginning) to the head.
    public func verify() throws(SQLiteError) -> AuditVerification {
        try locked { () throws(SQLiteError) -> AuditVerification in
            let anchor = try database.query("SELECT sequence, hash FROM audit_anchor WHERE id = 1").first
            let head = try database.query("SELECT sequence, hash FROM audit_head WHERE id = 1").first
            var verifier = AuditVerifier(anchorSequence: anchor?[0].integer ?? 0, anchorHash: anchor?[1].text ?? AuditChain.genesis)
            // Pages keep memory flat on a seven-year trail.
            var after = Int64.min
            while verifier.problem == nil {
                let rows = try database.query("SELECT sequence, timestamp, namespace, session, actor, action, outcome, entry, previous, hash FROM audit WHERE sequence > ? ORDER BY sequence LIMIT 1000", [.integer(after)])
                if rows.isEmpty { break }
                for row in rows where verifier.problem == nil { verifier.check(row) }
                after = rows.last?[0].integer ?? after
            }
            verifier.finish(head: head.map { ($0[0].integer ?? 0, $0[1].text ?? "") })
            return verifier.result
        }
    }

    private func locked<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
