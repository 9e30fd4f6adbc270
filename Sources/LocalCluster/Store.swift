import Foundation
import Model
import Support

/// The object store: one SQLite database in WAL mode holding every object, a global resourceVersion
/// counter, and the recent change events that watches replay.
///
/// Durability: a write is acknowledged only once the commit holding it is on disk, so it survives a
/// kill -9 and a power loss. With group commit (the default) commits only write the WAL
/// (synchronous=NORMAL) and concurrent writers share one fdatasync of it (GroupSync); readers too
/// wait for what they saw to be durable, so nothing a client was shown can vanish in a crash.
/// Without it every commit waits for its own fsync (synchronous=FULL): the figure `tenantry bench
/// cluster --commit per-write` compares against.
///
/// Unchecked Sendable: the one connection is used only while `lock` is held.
final class Store: @unchecked Sendable {
    let path: String
    /// How many change events to keep for watches and continue tokens; older ones are compacted away.
    let eventRetention: Int64
    let changes = ChangeFeed()
    /// Moves on every write to an RBAC object, so the authorizer knows its snapshot is stale.
    let rbacGeneration = Generation()
    private let lock = NSLock()
    private let database: SQLiteDatabase

    /// Shares fsyncs between concurrent writers; nil when every commit syncs itself.
    private let groupSync: GroupSync?

    init(path: String, eventRetention: Int64, groupCommit: Bool = true) throws {
        self.path = path
        self.eventRetention = eventRetention
        database = try SQLiteDatabase(path: path)
        // Group commit syncs the WAL itself (GroupSync: one fdatasync for every commit that came before it), so
        // SQLite's own per-commit sync is off; otherwise every commit syncs (the durable settings).
        if groupCommit { try database.execute(SQLiteDatabase.groupCommitSettings) } else { try database.makeDurable() }
        try database.execute("""
            CREATE TABLE IF NOT EXISTS objects (
                resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                rv INTEGER NOT NULL, body TEXT NOT NULL,
                PRIMARY KEY (resource, namespace, name)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS events (
                rv INTEGER PRIMARY KEY, resource TEXT NOT NULL, namespace TEXT NOT NULL,
                type TEXT NOT NULL, body TEXT NOT NULL, previous TEXT);
            CREATE INDEX IF NOT EXISTS events_by_resource ON events (resource, rv);
            CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters VALUES ('resourceVersion', 1), ('compacted', 0);
            """)
        // Databases made before events kept the previous object get the column (empty for old rows).
        if try !database.query("PRAGMA table_info(events)").contains(where: { $0.count > 1 && $0[1] == .text("previous") }) {
            try database.execute("ALTER TABLE events ADD COLUMN previous TEXT")
        }
        // Whatever the statements above wrote is synced now, before the first request.
        groupSync = groupCommit ? try GroupSync(walPath: path + "-wal") : nil
        try groupSync?.waitUntilDurable(groupSync?.committedOne() ?? 0)
        let latest = try read { try $0.latestResourceVersion() }
        changes.publish(latest)
    }

    /// Commits and the fsyncs they shared (nil without group commit).
    var syncCounts: (commits: UInt64, syncs: UInt64)? { groupSync?.counts }

    /// Reads in one transaction, so every query sees the same snapshot, and answers only once every
    /// commit the snapshot may include is durable (unless the caller's own commit, coming later in
    /// the log, will wait for that).
    func read<T>(waitingForDurability: Bool = true, _ body: (StoreTransaction) throws -> T) throws -> T {
        let (result, seen) = try lock.withLock { () throws -> (T, UInt64) in
            try database.execute("BEGIN")
            defer { try? database.execute("ROLLBACK") }
            return (try body(StoreTransaction(database: database, retention: eventRetention)), groupSync?.latestCommit ?? 0)
        }
        if waitingForDurability { try groupSync?.waitUntilDurable(seen) }
        return result
    }

    /// Writes in one transaction. A dry run does everything, then rolls back, so it fails exactly
    /// where the real write would and returns what the real write would have stored.
    func write<T>(dryRun: Bool = false, _ body: (StoreTransaction) throws -> T) throws -> T {
        let (result, latest, commit) = try lock.withLock { () throws -> (T, Int64, UInt64) in
            try database.execute("BEGIN IMMEDIATE")
            do {
                let transaction = StoreTransaction(database: database, retention: eventRetention, rbacGeneration: rbacGeneration)
                let result = try body(transaction)
                let latest = try transaction.latestResourceVersion()
                if dryRun {
                    try database.execute("ROLLBACK")
                    return (result, latest, groupSync?.latestCommit ?? 0)
                }
                try database.execute("COMMIT")
                return (result, latest, groupSync?.committedOne() ?? 0)
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
        // A dry run answers from a snapshot that may hold commits not yet synced, like a read.
        try groupSync?.waitUntilDurable(commit)
        if !dryRun { changes.publish(latest) }
        return result
    }
}

/// A change recorded for watches. A MODIFIED event keeps the object as it was before, so a watch
/// with a selector can tell an object entering or leaving the selection.
struct StoredEvent: Sendable, Hashable {
    var resourceVersion: Int64
    var type: String
    var object: JSON
    var previous: JSON?
}

/// The queries and writes of one open transaction.
struct StoreTransaction {
    let database: SQLiteDatabase
    let retention: Int64
    var rbacGeneration: Generation? = nil

    func latestResourceVersion() throws -> Int64 {
        try database.query("SELECT value FROM counters WHERE name = 'resourceVersion'").first?.first?.integer ?? 1
    }

    /// Events at or below this version are gone: watches and continue tokens from before it get 410.
    func compactedResourceVersion() throws -> Int64 {
        try database.query("SELECT value FROM counters WHERE name = 'compacted'").first?.first?.integer ?? 0
    }

    func get(_ type: ResourceType, namespace: String, name: String) throws -> JSON? {
        let rows = try database.query("SELECT body FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                                      [.text(type.storageKey), .text(namespace), .text(name)])
        return try rows.first?.first?.text.map { StoredForm.served(try JSON(parsing: $0), as: type) }
    }

    /// The stored object's resourceVersion, nil when there is none.
    func storedVersion(_ type: ResourceType, namespace: String, name: String) throws -> String? {
        try database.query("SELECT rv FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                           [.text(type.storageKey), .text(namespace), .text(name)]).first?.first?.integer.map { String($0) }
    }

    func exists(_ type: ResourceType, namespace: String, name: String) throws -> Bool {
        try !database.query("SELECT 1 FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                            [.text(type.storageKey), .text(namespace), .text(name)]).isEmpty
    }

    /// Objects in key order (namespace, name) after the given key; `namespace` nil means all namespaces.
    func list(_ type: ResourceType, namespace: String?, after key: ObjectKey?, limit: Int) throws -> [JSON] {
        var sql = "SELECT body FROM objects WHERE resource = ?"
        var parameters: [SQLiteValue] = [.text(type.storageKey)]
        if let namespace {
            sql += " AND namespace = ?"
            parameters.append(.text(namespace))
        }
        if let key {
            sql += " AND (namespace, name) > (?, ?)"
            parameters += [.text(key.namespace), .text(key.name)]
        }
        sql += " ORDER BY namespace, name LIMIT ?"
        parameters.append(.integer(Int64(limit)))
        return try database.query(sql, parameters).compactMap { try $0.first?.text.map { StoredForm.served(try JSON(parsing: $0), as: type) } }
    }

    /// How many objects of a type a namespace holds.
    func count(_ type: ResourceType, namespace: String) throws -> Int {
        Int(try database.query("SELECT COUNT(*) FROM objects WHERE resource = ? AND namespace = ?",
                               [.text(type.storageKey), .text(namespace)]).first?.first?.integer ?? 0)
    }

    /// A namespace's objects whose `status.phase` is none of `phases` (SQLite reads the phase, so ended Pods are
    /// never parsed: quota admission stays proportional to the live ones).
    func list(_ type: ResourceType, namespace: String, phaseNotIn phases: [String]) throws -> [JSON] {
        let marks = phases.map { _ in "?" }.joined(separator: ", ")
        let rows = try database.query("SELECT body FROM objects WHERE resource = ? AND namespace = ? AND coalesce(json_extract(body, '$.status.phase'), '') NOT IN (\(marks))",
                                      [.text(type.storageKey), .text(namespace)] + phases.map { .text($0) })
        return try rows.compactMap { try $0.first?.text.map { StoredForm.served(try JSON(parsing: $0), as: type) } }
    }

    /// Storage keys of every resource that has objects in a namespace.
    func resources(inNamespace namespace: String) throws -> [String] {
        try database.query("SELECT DISTINCT resource FROM objects WHERE namespace = ?", [.text(namespace)]).compactMap { $0.first?.text }
    }

    /// Takes the next resourceVersion; every write takes exactly one.
    func nextResourceVersion() throws -> Int64 {
        try database.query("UPDATE counters SET value = value + 1 WHERE name = 'resourceVersion'")
        return try latestResourceVersion()
    }

    /// Stores an object whose metadata.resourceVersion is already set, and records the event
    /// (ADDED without `previous`, MODIFIED with it).
    func put(_ type: ResourceType, _ object: JSON, previous: JSON?) throws {
        let (object, previous) = (StoredForm.stored(object, as: type), previous.map { StoredForm.stored($0, as: type) })
        let version = Int64(object.resourceVersion ?? "") ?? 0
        let body = object.compactText
        try database.query("INSERT OR REPLACE INTO objects (resource, namespace, name, rv, body) VALUES (?, ?, ?, ?, ?)",
                           [.text(type.storageKey), .text(object.namespace), .text(object.name), .integer(version), .text(body)])
        try record(type, object, event: previous == nil ? "ADDED" : "MODIFIED", version: version, body: body, previous: previous)
    }

    /// Removes an object; `object` is its final state, with the resourceVersion of the deletion.
    func delete(_ type: ResourceType, _ object: JSON) throws {
        let object = StoredForm.stored(object, as: type)
        let version = Int64(object.resourceVersion ?? "") ?? 0
        try database.query("DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                           [.text(type.storageKey), .text(object.namespace), .text(object.name)])
        try record(type, object, event: "DELETED", version: version, body: object.compactText, previous: nil)
    }

    func events(_ type: ResourceType, after version: Int64, limit: Int) throws -> [StoredEvent] {
        try database.query("SELECT rv, type, body, previous FROM events WHERE resource = ? AND rv > ? ORDER BY rv LIMIT ?",
                           [.text(type.storageKey), .integer(version), .integer(Int64(limit))]).map { row in
            StoredEvent(resourceVersion: row[0].integer ?? 0, type: row[1].text ?? "", object: StoredForm.served(try JSON(parsing: row[2].text ?? "null"), as: type),
                        previous: try row[3].text.map { StoredForm.served(try JSON(parsing: $0), as: type) })
        }
    }

    private func record(_ type: ResourceType, _ object: JSON, event: String, version: Int64, body: String, previous: JSON?) throws {
        if type.group == ResourceType.rbacGroup { rbacGeneration?.advance() }
        try database.query("INSERT INTO events (rv, resource, namespace, type, body, previous) VALUES (?, ?, ?, ?, ?, ?)",
                           [.integer(version), .text(type.storageKey), .text(object.namespace), .text(event), .text(body),
                            previous.map { .text($0.compactText) } ?? .null])
        let horizon = version - retention
        if horizon > 0, horizon % 64 == 0 || retention < 64 {
            try database.query("DELETE FROM events WHERE rv <= ?", [.integer(horizon)])
            try database.query("UPDATE counters SET value = max(value, ?) WHERE name = 'compacted'", [.integer(horizon)])
        }
    }
}

/// Where a list page stopped: the last key it returned.
struct ObjectKey: Sendable, Hashable {
    var namespace: String
    var name: String
}

/// Tells waiting watches that the store moved on, or that the server is stopping.
final class ChangeFeed: @unchecked Sendable {
    // Unchecked: both fields are only touched with `condition` locked.
    private let condition = NSCondition()
    private var latest: Int64 = 0
    private var closed = false

    func publish(_ version: Int64) {
        condition.withLock {
            latest = max(latest, version)
            condition.broadcast()
        }
    }

    /// Wakes every waiter to look again (a watch whose client went away).
    func wake() {
        condition.withLock { condition.broadcast() }
    }

    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// Waits until a version above `version` is published, the feed closes, or the deadline passes.
    /// Returns false once the feed is closed.
    func wait(after version: Int64, until deadline: Date) -> Bool {
        condition.withLock {
            while latest <= version, !closed, Date() < deadline {
                _ = condition.wait(until: deadline)
            }
            return !closed
        }
    }
}
