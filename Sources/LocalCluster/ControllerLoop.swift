import Foundation
import Model

/// One change from the events table, with the resource it belongs to.
struct ClusterChange: Sendable {
    var storageKey: String
    var event: StoredEvent
}

extension StoreTransaction {
    /// Every resource's events after a version, oldest first: what the in-process controllers follow. Without the
    /// previous object, which no controller reads (parsing it doubled the cost of following a large status's writes).
    func changes(after version: Int64, limit: Int) throws -> [ClusterChange] {
        try database.query("SELECT rv, resource, type, body FROM events WHERE rv > ? ORDER BY rv LIMIT ?",
                           [.integer(version), .integer(Int64(limit))]).map { row in
            ClusterChange(storageKey: row[1].text ?? "",
                          event: StoredEvent(resourceVersion: row[0].integer ?? 0, type: row[2].text ?? "",
                                             object: try JSON(parsing: row[3].text ?? "null"), previous: nil))
        }
    }

    /// Every object of every kind, for a controller that starts (or fell behind the kept events).
    func everything(_ types: [ResourceType]) throws -> [(ResourceType, JSON)] {
        try types.flatMap { type in try list(type, namespace: nil, after: nil, limit: Int.max).map { (type, $0) } }
    }
}

/// A controller inside the local cluster, driven by the store's change events as a watch is.
protocol ClusterController: AnyObject {
    /// All objects, at start or after falling behind the kept events; rebuild any cache.
    func resync(_ objects: [(ResourceType, JSON)], loop: ControllerLoop)
    /// One committed change, in resourceVersion order.
    func observe(_ change: ClusterChange, type: ResourceType, loop: ControllerLoop)
    /// Acts on a key that an observation or a timer made due.
    func reconcile(_ key: ControllerKey, loop: ControllerLoop)
}

/// What a controller acts on: its name for the work plus the object's place.
struct ControllerKey: Hashable, Sendable {
    var controller: String
    /// The storage key of the object's resource, where the controller handles more than one.
    var resource: String = ""
    var namespace: String
    var name: String
}

/// The thread the controllers run on. It follows the events table (waking on the store's change
/// feed, as watches do), hands each change to every controller, then reconciles the keys they marked,
/// and wakes for timers (deadlines, TTLs, backoffs) without polling any object.
/// Unchecked Sendable: `queued`/`timers` are guarded by `lock`; the rest is touched only on the loop thread.
final class ControllerLoop: @unchecked Sendable {
    let api: APIServer
    private var controllers: [String: ClusterController] = [:]
    private var order: [String] = []
    private let lock = NSLock()
    private var queued: [ControllerKey] = []
    private var queuedSet: Set<ControllerKey> = []
    private var timers: [(Date, ControllerKey)] = []
    private var stopped = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    private static let batch = 500

    init(api: APIServer) { self.api = api }

    func register(_ name: String, _ controller: ClusterController) {
        controllers[name] = controller
        order.append(name)
    }

    var store: Store { api.store }

    /// Marks a key due now. Called on the loop thread (from observe and reconcile); other threads
    /// reach the controllers by writing to the store.
    func enqueue(_ key: ControllerKey) {
        lock.withLock {
            if queuedSet.insert(key).inserted { queued.append(key) }
        }
    }

    /// Marks a key due at a time (on the loop thread, like `enqueue`).
    func enqueue(_ key: ControllerKey, at date: Date) {
        if date <= Date() { return enqueue(key) }
        lock.withLock { timers.append((date, key)) }
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "local-cluster-controllers"
        thread.stackSize = 4 << 20
        self.thread = thread
        thread.start()
    }

    /// Ends the loop; the store's change feed must be closed first, which wakes it.
    /// Safe to call twice (as `LocalClusterServer.stop` is).
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first, thread != nil { finished.wait() }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func run() {
        defer { finished.signal() }
        var position = resync()
        while !isStopped {
            do {
                let (changes, expired) = try store.read { transaction -> ([ClusterChange], Bool) in
                    if position < (try transaction.compactedResourceVersion()) { return ([], true) }
                    return (try transaction.changes(after: position, limit: Self.batch), false)
                }
                if expired {
                    position = resync()
                    continue
                }
                for change in changes {
                    position = change.event.resourceVersion
                    guard let type = api.registry.all.first(where: { $0.storageKey == change.storageKey }) else { continue }
                    for name in order { controllers[name]!.observe(change, type: type, loop: self) }
                }
                // Reconcile only once caught up, so no controller acts on a cache missing its own last writes.
                if changes.count == Self.batch { continue }
                reconcileDue()
                if !changes.isEmpty { continue }
                let wakeAt = lock.withLock { () -> Date in
                    if !queued.isEmpty { return Date() }
                    return timers.map(\.0).min() ?? Date().addingTimeInterval(60)
                }
                if wakeAt > Date(), !store.changes.wait(after: position, until: wakeAt) { return }
            } catch {
                // The store failed (disk full, closing): try again shortly rather than spin.
                if !store.changes.wait(after: Int64.max - 1, until: Date().addingTimeInterval(0.5)) { return }
            }
        }
    }

    /// Runs every key that is due: queued ones, and timers whose time came.
    private func reconcileDue() {
        let now = Date()
        let due = lock.withLock { () -> [ControllerKey] in
            let fired = timers.filter { $0.0 <= now }.map(\.1)
            timers.removeAll { $0.0 <= now }
            for key in fired where queuedSet.insert(key).inserted { queued.append(key) }
            let keys = queued
            queued = []
            queuedSet = []
            return keys
        }
        guard !due.isEmpty else { return }
        // One transaction (one fsync) for the whole batch; each key in its own savepoint, so one
        // that fails leaves no half-done write and the others still commit.
        try? store.write { transaction in
            batch = transaction
            defer { batch = nil }
            for key in due where !isStopped {
                do {
                    try transaction.database.execute("SAVEPOINT reconcile")
                    controllers[key.controller]?.reconcile(key, loop: self)
                    try transaction.database.execute("RELEASE reconcile")
                } catch {
                    try? transaction.database.execute("ROLLBACK TO reconcile")
                    try? transaction.database.execute("RELEASE reconcile")
                }
            }
        }
    }

    /// The transaction of the batch being reconciled, which `read` and `write` join.
    private var batch: StoreTransaction?

    /// Hands every object to every controller and returns the version they have seen.
    private func resync() -> Int64 {
        while !isStopped {
            do {
                let (latest, objects) = try store.read { transaction in
                    (try transaction.latestResourceVersion(), try transaction.everything(api.registry.all))
                }
                for name in order { controllers[name]!.resync(objects, loop: self) }
                reconcileDue()
                return latest
            } catch {
                _ = store.changes.wait(after: Int64.max - 1, until: Date().addingTimeInterval(0.5))
            }
        }
        return 0
    }

    /// One write through the API server's commit path, so finalizers, grace periods and namespace
    /// cleanup behave as for any client's write. Errors are for the caller to retry on the next event.
    /// A controller's write joins the batch's transaction: a failure rolls back this write only.
    @discardableResult
    func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        guard let batch else { return try store.write(body) }
        try batch.database.execute("SAVEPOINT write")
        do {
            let result = try body(batch)
            try batch.database.execute("RELEASE write")
            return result
        } catch {
            try? batch.database.execute("ROLLBACK TO write")
            try? batch.database.execute("RELEASE write")
            throw error
        }
    }

    /// A controller's read, inside the batch's transaction when there is one (the store's lock is held).
    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        guard let batch else { return try store.read(body) }
        return try body(batch)
    }

    static var now: String { WriteRequest.timestamp(Date()) }
}
