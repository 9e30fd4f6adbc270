import Apply
import Foundation
import Model
import Sessions
import Support
import Synchronization

/// `serve --admission cluster`: budget, `maxConcurrentSessions`, `sessionsPerMinute` and one session per intent decided
/// on the tenant's ledger, the NamespacePolicy status of its ledger namespace (`SharedLedger`), by compare-and-swap, so
/// any number of receivers admit exactly what one would: the budget across all the tenant's namespaces, the limits per
/// namespace. The per-process journal still dedupes, checks models and tools and keeps what it needs to ack durably.
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
    private let serverClock = ServerClock()
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
        WebhookFailure(503, .unavailable, "the admission ledger in namespace \(namespace) (NamespacePolicy \(namespace)/\(NamespacePolicy.objectName) status) \(what); the delivery was not accepted, retry shortly",
                       retryAfter: 5)
    }

    /// One compare-and-swap round on the ledger kept in `namespace` (a tenant's ledger namespace): read, `operation`,
    /// write at the read resourceVersion.
    /// `operation` returns nil when nothing is to be written. Conflicts are retried with a short jittered pause.
    ///
    /// The time the operation decides at is the API server's (`ServerClock`), not this process's: replicas whose
    /// clocks disagree still share one rate window. `operation` gets the earliest the time can be (to decide at) and the
    /// latest (to stamp new entries at).
    @discardableResult
    func update<T>(_ namespace: String, _ operation: (SharedLedger, ServerClock.Bounds) throws(WebhookFailure) -> (SharedLedger?, T)) throws(WebhookFailure) -> T {
        let reference = Self.policyReference(namespace)
        let started = Date()
        defer { counters.withLock { $0.writeSeconds += Date().timeIntervalSince(started) } }
        for attempt in 0..<64 {
            // The object this replica wrote last is usually still the newest: start from it, read again after a 409.
            var found = attempt == 0 ? lastWritten.withLock { $0[namespace] } : nil
            let cached = found != nil
            if found == nil {
                do {
                    let read = try client.getDated(reference)
                    found = read.object
                    serverClock.learn(read.serverTime)
                } catch { throw Self.unavailable(namespace, "could not be read (\(error))") }
            }
            guard let object = found else { throw Self.unavailable(namespace, "does not exist yet") }
            let time = serverClock.bounds(fallback: clock)
            let now = time.earliest
            let ledger: SharedLedger
            let resourceVersion: String
            do {
                let policy = try PolicySnapshot(object: object)
                ledger = try SharedLedger(status: object["status"], monthly: policy.budget.monthly, now: now, namespace: namespace)
                resourceVersion = policy.resourceVersion ?? ""
            } catch {
                throw Self.unavailable(namespace, "cannot be read: \(error)")
            }
            let (next, result) = try operation(ledger, time)
            // Nothing to write (a refusal): no compare-and-swap will check it, so it must hold on the newest object, not
            // on this replica's last write (another replica or the controller may have freed a slot since).
            guard let next else {
                if cached { continue }
                return result
            }
            guard case .object(let patch) = next.statusPatch(resourceVersion: resourceVersion) else { return result }
            do {
                let (written, serverTime) = try client.mergePatchStatusDated(reference, patch: patch)
                serverClock.learn(serverTime)
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

    /// What `reserve` did.
    public enum Outcome: Sendable, Hashable {
        /// This call reserved the request's cost and a slot.
        case reserved
        /// The Session holds a reservation already (a redelivery, perhaps to another replica).
        case held
        /// Another session owns the request's intent within the intent window (a delivery about the same issue, perhaps
        /// to another replica): that session is the answer.
        case duplicate(session: String)
    }

    /// Reserves the request's cost and a slot on its tenant's ledger, or says the Session holds one already, or names
    /// the session owning the request's intent. Throws the refusal to answer.
    ///
    /// Requests for one tenant that arrive while a write is in flight are decided together in the next one (a group
    /// commit, as the journal does): one compare-and-swap for many deliveries, so replicas collide per batch, not per
    /// delivery. A redelivery of a Session already settled and out of the rate window reserves again; `reap` gives that
    /// back once the grace period has passed (never too little held: the limits stay exact, at worst conservative).
    public func reserve(_ request: AdmissionRequest) throws(WebhookFailure) -> Outcome {
        let result = batches.submit(request, key: request.policy.ledgerNamespace) { batch in self.decide(batch) }
        switch result {
        case .success(let outcome):
            if outcome == .reserved { counters.withLock { $0.reserved += 1 } }
            return outcome
        case .failure(let failure): throw failure
        }
    }

    /// One write for a batch (requests of one tenant): each request decided in order on the ledger as the previous ones left it.
    private func decide(_ batch: [AdmissionRequest]) -> [Result<Outcome, WebhookFailure>] {
        guard let ledgerNamespace = batch.first?.policy.ledgerNamespace else { return [] }
        do {
            return try update(ledgerNamespace) { ledger, time throws(WebhookFailure) in
                var next = ledger
                var results: [Result<Outcome, WebhookFailure>] = []
                for request in batch {
                    let limits = SharedLedger.Limits(maxConcurrentSessions: request.policy.policy.maxConcurrentSessions,
                                                     sessionsPerMinute: request.policy.policy.sessionsPerMinute)
                    switch next.admitting(request.sessionName, namespace: request.namespace, cost: request.estimatedCost, limits: limits,
                                          now: time.earliest, stamp: time.latest, intent: request.intent, intentWindow: TimeInterval(request.policy.triggers.intentWindowSeconds)) {
                    case .alreadyReserved: results.append(.success(.held))
                    case .duplicate(let owner): results.append(.success(.duplicate(session: owner)))
                    case .refused(let refusal): results.append(.failure(Self.failure(refusal, request)))
                    case .admitted(let admitted):
                        next = admitted
                        results.append(.success(.reserved))
                    }
                }
                return (results.contains { (try? $0.get()) == .reserved } ? next : nil, results)
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    /// Gives back a reservation `reserve` just made, when the journal did not accept the delivery after all.
    public func withdraw(_ request: AdmissionRequest) {
        do {
            try update(request.policy.ledgerNamespace) { ledger, _ throws(WebhookFailure) in
                (ledger.isLive(request.sessionName, namespace: request.namespace) ? ledger.withdrawing(request.sessionName, namespace: request.namespace) : nil, ())
            }
            counters.withLock { $0.withdrawn += 1 }
        } catch {
            // Left for `reap`: the Session never appears, so the reservation is given back after the grace period.
        }
    }

    /// Gives back `namespace`'s reservations older than the grace period whose Session is not live (`live`: the
    /// namespace's Sessions not in a final phase, as just listed), on the ledger kept in `ledgerNamespace`: a receiver
    /// killed between reserving and journaling leaves one.
    public func reap(namespace: String, ledgerNamespace: String, live: Set<String>) {
        let grace = orphanGrace
        let reaped: Int? = try? update(ledgerNamespace) { ledger, time throws(WebhookFailure) in
            guard let next = ledger.reaping(olderThan: grace, now: time.earliest, namespace: namespace, holds: { live.contains($0) }) else { return (nil, 0) }
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
            return .policy("tenant \(request.tenant) has \(refusal.remaining) \(currency) left of its \(request.budget.monthly) \(currency) budget for \(refusal.month); this session is estimated at \(refusal.requested) \(currency)",
                           rule: "budget", details: ["remaining": .string(refusal.remaining.description), "monthly": .string(request.budget.monthly.description),
                                                     "estimatedCost": .string(refusal.requested.description),
                                                     "currency": .string(currency), "month": .string(refusal.month),
                                                     "ledgerNamespace": .string(request.policy.ledgerNamespace)])
        }
    }
}

/// Per ledger (tenant), the requests waiting for the write in flight; the first caller to find no write in flight makes
/// the writes (for everyone waiting) until none is left.
final class Batches: @unchecked Sendable {
    private final class Waiter {
        let request: AdmissionRequest
        var result: Result<ClusterAdmission.Outcome, WebhookFailure>?
        init(_ request: AdmissionRequest) { self.request = request }
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var waiting: [String: [Waiter]] = [:]
    private var writing: Set<String> = []

    func submit(_ request: AdmissionRequest, key namespace: String,
                write: ([AdmissionRequest]) -> [Result<ClusterAdmission.Outcome, WebhookFailure>]) -> Result<ClusterAdmission.Outcome, WebhookFailure> {
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

/// The API server's clock as this process can know it: the `Date` header of its latest answer (whole seconds,
/// truncated) plus the monotonic time since that answer came. The true time is between `earliest` (the header) and
/// `latest` (a second later), give or take the request's latency. Before any answer, the process's own clock.
final class ServerClock: Sendable {
    struct Bounds: Sendable {
        var earliest: Date
        var latest: Date
    }

    private let last = Mutex<(date: Date, received: UInt64)?>(nil)

    func learn(_ date: Date?) {
        guard let date else { return }
        let received = DispatchTime.now().uptimeNanoseconds
        last.withLock { $0 = (date, received) }
    }

    func bounds(fallback clock: () -> Date) -> Bounds {
        guard let (date, received) = last.withLock({ $0 }) else {
            let now = clock()
            return Bounds(earliest: now, latest: now)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds &- received) / 1e9
        let earliest = date.addingTimeInterval(max(0, elapsed))
        return Bounds(earliest: earliest, latest: earliest.addingTimeInterval(1))
    }
}
