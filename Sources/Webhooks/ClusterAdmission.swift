import Apply
import Foundation
import Model
import Sessions
import Support
import Synchronization

/// `serve --admission cluster`: budget, `maxConcurrentSessions` and `sessionsPerMinute` decided on the namespace's
/// NamespacePolicy status (`SharedLedger`) by compare-and-swap, so any number of receivers admit exactly what one
/// would. The per-process journal still dedupes, checks models and tools and keeps what it needs to ack durably.
public final class ClusterAdmission: Sendable {
    public static let fieldManager = "tenantry-webhooks"
    let client: KubeClient
    /// A reservation whose Session is neither there nor live this long after it was made is given back (`reap`).
    public let orphanGrace: TimeInterval
    let clock: @Sendable () -> Date

    /// What reservations cost in API calls, for `/metrics` and the benchmark.
    public struct Counters: Sendable, Hashable {
        public var reserved = 0
        /// Compare-and-swap writes that succeeded (each carries a batch) and the seconds spent in them (read and write).
        public var writes = 0
        public var writeSeconds = 0.0
        public var conflicts = 0
        public var withdrawn = 0
        public var reaped = 0
    }
    private let counters = Mutex(Counters())
    private let lastWritten = Mutex([String: JSONObject]())
    private let batches = Batches()
    public var counts: Counters { counters.withLock { $0 } }

    public init(config: ClusterConfig, orphanGrace: TimeInterval = 300, timeout: TimeInterval = 10, clock: @escaping @Sendable () -> Date = { Date() }) {
        client = KubeClient(config: config, fieldManager: Self.fieldManager, retry: KubeRetryPolicy(attempts: 2), timeout: timeout)
        self.orphanGrace = orphanGrace
        self.clock = clock
    }

    static func policyReference(_ namespace: String) -> ObjectReference {
        ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace, name: NamespacePolicy.objectName)
    }

    static func unavailable(_ namespace: String, _ what: String) -> WebhookFailure {
        WebhookFailure(503, .unavailable, "the admission ledger of namespace \(namespace) (NamespacePolicy \(namespace)/\(NamespacePolicy.objectName) status) \(what); the delivery was not accepted, retry shortly",
                       retryAfter: 5)
    }

    /// One compare-and-swap round on the namespace's ledger: read, `operation`, write at the read resourceVersion.
    /// `operation` returns nil when nothing is to be written. Conflicts are retried with a short jittered pause.
    @discardableResult
    func update<T>(_ namespace: String, _ operation: (SharedLedger, Date) throws(WebhookFailure) -> (SharedLedger?, T)) throws(WebhookFailure) -> T {
        let reference = Self.policyReference(namespace)
        let started = Date()
        defer { counters.withLock { $0.writeSeconds += Date().timeIntervalSince(started) } }
        for attempt in 0..<64 {
            // The object this replica wrote last is usually still the newest: start from it, read again after a 409.
            var found = attempt == 0 ? lastWritten.withLock { $0[namespace] } : nil
            let cached = found != nil
            if found == nil {
                do { found = try client.get(reference) } catch { throw Self.unavailable(namespace, "could not be read (\(error))") }
            }
            guard let object = found else { throw Self.unavailable(namespace, "does not exist yet") }
            let now = clock()
            let ledger: SharedLedger
            let resourceVersion: String
            do {
                let policy = try PolicySnapshot(object: object)
                ledger = try SharedLedger(status: object["status"], monthly: policy.budget.monthly, now: now)
                resourceVersion = policy.resourceVersion ?? ""
            } catch {
                throw Self.unavailable(namespace, "cannot be read: \(error)")
            }
            let (next, result) = try operation(ledger, now)
            // Nothing to write (a refusal): no compare-and-swap will check it, so it must hold on the newest object, not
            // on this replica's last write (another replica or the controller may have freed a slot since).
            guard let next else {
                if cached { continue }
                return result
            }
            guard case .object(let patch) = next.statusPatch(resourceVersion: resourceVersion) else { return result }
            do {
                let written = try client.mergePatchStatus(reference, patch: patch)
                lastWritten.withLock { $0[namespace] = written }
                counters.withLock { $0.writes += 1 }
                return result
            } catch {
                lastWritten.withLock { $0[namespace] = nil }
                guard error.status?.code == 409 else { throw Self.unavailable(namespace, "could not be written (\(error))") }
                counters.withLock { $0.conflicts += 1 }
                // Spread the replicas that collided; the pause grows a little with each loss.
                usleep(UInt32.random(in: 0...UInt32(min(20_000, 500 * (attempt + 1)))))
            }
        }
        throw Self.unavailable(namespace, "changed 64 times while this delivery was being admitted")
    }

    /// Reserves the request's cost and a slot. True when this call reserved; false when the Session holds a
    /// reservation already (a redelivery, perhaps to another replica). Throws the refusal to answer.
    ///
    /// Requests for one namespace that arrive while a write is in flight are decided together in the next one (a group
    /// commit, as the journal does): one compare-and-swap for many deliveries, so replicas collide per batch, not per
    /// delivery. A redelivery of a Session already settled and out of the rate window reserves again; `reap` gives that
    /// back once the grace period has passed (never too little held: the limits stay exact, at worst conservative).
    public func reserve(_ request: AdmissionRequest) throws(WebhookFailure) -> Bool {
        let result = batches.submit(request) { batch in self.decide(batch) }
        switch result {
        case .success(let reserved):
            if reserved { counters.withLock { $0.reserved += 1 } }
            return reserved
        case .failure(let failure): throw failure
        }
    }

    /// One write for a batch: each request decided in order on the ledger as the previous ones left it.
    private func decide(_ batch: [AdmissionRequest]) -> [Result<Bool, WebhookFailure>] {
        guard let namespace = batch.first?.namespace else { return [] }
        do {
            return try update(namespace) { ledger, now throws(WebhookFailure) in
                var next = ledger
                var results: [Result<Bool, WebhookFailure>] = []
                for request in batch {
                    let limits = SharedLedger.Limits(maxConcurrentSessions: request.policy.policy.maxConcurrentSessions,
                                                     sessionsPerMinute: request.policy.policy.sessionsPerMinute)
                    switch next.admitting(request.sessionName, cost: request.estimatedCost, limits: limits, now: now) {
                    case .alreadyReserved: results.append(.success(false))
                    case .refused(let refusal): results.append(.failure(Self.failure(refusal, request)))
                    case .admitted(let admitted):
                        next = admitted
                        results.append(.success(true))
                    }
                }
                return (results.contains { (try? $0.get()) == true } ? next : nil, results)
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    /// Gives back a reservation `reserve` just made, when the journal did not accept the delivery after all.
    public func withdraw(_ request: AdmissionRequest) {
        do {
            try update(request.namespace) { ledger, _ throws(WebhookFailure) in
                (ledger.isLive(request.sessionName) ? ledger.withdrawing(request.sessionName) : nil, ())
            }
            counters.withLock { $0.withdrawn += 1 }
        } catch {
            // Left for `reap`: the Session never appears, so the reservation is given back after the grace period.
        }
    }

    /// Gives back reservations older than the grace period whose Session is not live (`live`: the namespace's Sessions
    /// not in a final phase, as just listed): a receiver killed between reserving and journaling leaves one.
    public func reap(namespace: String, live: Set<String>) {
        let grace = orphanGrace
        let reaped: Int? = try? update(namespace) { ledger, now throws(WebhookFailure) in
            guard let next = ledger.reaping(olderThan: grace, now: now, holds: { live.contains($0) }) else { return (nil, 0) }
            return (next, ledger.live.count - next.live.count)
        }
        if let reaped, reaped > 0 { counters.withLock { $0.reaped += reaped } }
    }

    /// The refusal, worded as the per-process admission words it (`AdmissionState.violations`).
    static func failure(_ refusal: SharedLedger.Refusal, _ request: AdmissionRequest) -> WebhookFailure {
        switch refusal {
        case .concurrency(let live, let limit):
            return .policy("namespace \(request.namespace) already runs \(live) sessions, its limit (maxConcurrentSessions); wait for one to finish",
                           rule: "maxConcurrentSessions", details: ["live": .int(live), "limit": .int(limit)])
        case .rate(let limit, let wait):
            return WebhookFailure(429, .rateLimitExceeded, "namespace \(request.namespace) may start \(limit) sessions a minute and has; retry in \(wait) s",
                                  details: ["limit": .int(limit), "retryAfterSeconds": .int(wait)], retryAfter: wait)
        case .budget(let refusal):
            let currency = request.budget.currency
            return .policy("namespace \(request.namespace) has \(refusal.remaining) \(currency) left of its budget for \(refusal.month); this session is estimated at \(refusal.requested) \(currency)",
                           rule: "budget", details: ["remaining": .string(refusal.remaining.description), "estimatedCost": .string(refusal.requested.description),
                                                     "currency": .string(currency), "month": .string(refusal.month)])
        }
    }
}

/// Per namespace, the requests waiting for the write in flight; the first caller to find no write in flight makes the
/// writes (for everyone waiting) until none is left.
final class Batches: @unchecked Sendable {
    private final class Waiter {
        let request: AdmissionRequest
        var result: Result<Bool, WebhookFailure>?
        init(_ request: AdmissionRequest) { self.request = request }
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var waiting: [String: [Waiter]] = [:]
    private var writing: Set<String> = []

    func submit(_ request: AdmissionRequest, write: ([AdmissionRequest]) -> [Result<Bool, WebhookFailure>]) -> Result<Bool, WebhookFailure> {
        let namespace = request.namespace
        let me = Waiter(request)
        condition.lock()
        defer { condition.unlock() }
        waiting[namespace, default: []].append(me)
        while me.result == nil {
            if writing.contains(namespace) {
                condition.wait()
                continue
            }
            writing.insert(namespace)
            while let batch = waiting.removeValue(forKey: namespace), !batch.isEmpty {
                condition.unlock()
                let results = write(batch.map(\.request))
                condition.lock()
                for (waiter, result) in zip(batch, results) { waiter.result = result }
                condition.broadcast()
            }
            writing.remove(namespace)
            condition.broadcast()
        }
        return me.result!
    }
}
