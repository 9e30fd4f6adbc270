import Apply
import Foundation
import Model
import Sessions
import Support
import Synchronization

/// The session controller: watch-driven, as a client-go controller. Informers list+watch Sessions, the session
/// runners' Jobs and Pods (label-selected) and NamespacePolicies into caches; every change enqueues the Session it
/// concerns on a work queue keyed by `namespace/name`; workers feed the cached objects to `SessionMachine.reconcile`
/// and carry out its actions (`SessionController+Actions.swift`). Failures are retried with a per-key backoff;
/// a periodic resync enqueues every Session again. There is no polling loop per Session.
public final class SessionController: Sendable {
    public struct Configuration: Sendable {
        public var environment: RunnerEnvironment
        /// The platform's model prices (model name → price), to charge reported tokens and estimate.
        public var pricing: [String: ModelOffer.Pricing]
        /// Tokens assumed per session for a model priced per 1k tokens, when the Session carries no estimate.
        public var estimatedTokensPerSession: Int64
        /// Every Session is reconciled again this often even if nothing changed.
        public var resyncInterval: TimeInterval
        public var workers: Int
        /// Stores archived history entries (`status.history` past 1,000) as an artifact of the session.
        public var archive: (@Sendable (_ namespace: String, _ session: String, _ name: String, _ bytes: Data) throws -> Void)?
        /// Told when a Session reaches a final phase (after its status is written): the webhook admission frees its slot.
        public var finished: (@Sendable (_ namespace: String, _ name: String) -> Void)?
        /// Told of each step (a status change) before it is written, so what it records is durable first; it must be
        /// idempotent (a step re-derived after a restart is told again). The notifications outbox (`SessionController+Steps.swift`).
        public var steps: (@Sendable (SessionStep) throws -> Void)?
        /// Removes a namespace's artifacts created before the cutoff (`retention.artifacts`); returns what went, as
        /// `namespace/session/name`. Nil: no artifact store, nothing to remove.
        public var expireArtifacts: (@Sendable (_ namespace: String, _ cutoff: Date) throws -> [String])?
        /// How often retention runs (`enforceRetention`); 0 turns the timer off.
        public var retentionInterval: TimeInterval = 600
        public var log: @Sendable (String) -> Void
        public var clock: @Sendable () -> Date

        public init(environment: RunnerEnvironment, pricing: [String: ModelOffer.Pricing] = [:], estimatedTokensPerSession: Int64 = 100_000,
                    resyncInterval: TimeInterval = 60, workers: Int = 4,
                    archive: (@Sendable (String, String, String, Data) throws -> Void)? = nil,
                    log: @escaping @Sendable (String) -> Void = { _ in }, clock: @escaping @Sendable () -> Date = { Date() }) {
            self.environment = environment
            self.pricing = pricing
            self.estimatedTokensPerSession = estimatedTokensPerSession
            self.resyncInterval = resyncInterval
            self.workers = workers
            self.archive = archive
            self.log = log
            self.clock = clock
        }
    }

    /// What the controller has done since it started (for logs, `/metrics` and the benchmark).
    public struct Counters: Sendable, Hashable {
        public var reconciles = 0
        public var retries = 0
        public var jobsCreated = 0
        public var jobsDeleted = 0
        public var statusWrites = 0
        public var events = 0
        public var budgetWrites = 0
        public var budgetConflicts = 0
        public var quotaRefusals = 0
        /// Settlements found already in the ledger (a controller stopped between the ledger write and the status write).
        public var settlementsSkipped = 0
        public var sessionsDeleted = 0
        public var artifactsDeleted = 0
    }

    /// The label every runner Job and Pod carries (`JobBuilder.labels`).
    public static let runnerSelector = "app.kubernetes.io/part-of=tenantry,\(JobBuilder.componentLabel)=\(JobBuilder.serviceAccount)"

    let client: KubeClient
    let configuration: Configuration
    let queue = WorkQueue()
    let sessions: Informer
    let jobs: Informer
    let pods: Informer
    let policies: Informer
    /// The job controller's `FailedCreate` Events on Jobs: why a runner Job has no Pod yet (a Pod quota).
    let podRefusals: Informer
    let counters = Mutex(Counters())
    let notes = HistoryNotes()
    /// Namespaces whose NamespacePolicy counts are to be written (at most every `countsDelay`).
    let countsDue = Mutex<Set<String>>([])
    /// The last NamespacePolicy generation seen per namespace: only a spec change re-queues its Sessions.
    private let policyGenerations = Mutex<[String: Int]>([:])
    private let stopped = Atomic(false)
    /// The worker threads running (a leader that stops waits for them before it lets its Lease go).
    private let working = DispatchGroup()
    private let resync = DispatchQueue(label: "tenantry.session-controller.resync")

    public init(client: KubeClient, configuration: Configuration) {
        self.client = client
        self.configuration = configuration
        let log = configuration.log
        let box = EnqueueBox()
        sessions = Informer(client: client, apiVersion: Session.apiVersion, kind: Session.kind, log: log) { box.enqueue?(.session($0)) }
        jobs = Informer(client: client, apiVersion: "batch/v1", kind: "Job", labelSelector: Self.runnerSelector, log: log) { box.enqueue?(.workload($0)) }
        pods = Informer(client: client, apiVersion: "v1", kind: "Pod", labelSelector: Self.runnerSelector, log: log) { box.enqueue?(.workload($0)) }
        policies = Informer(client: client, apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, log: log) { box.enqueue?(.policy($0)) }
        podRefusals = Informer(client: client, apiVersion: "v1", kind: "Event", fieldSelector: Self.podRefusalSelector, log: log) { box.enqueue?(.jobEvent($0)) }
        box.enqueue = { [weak self] source in self?.enqueue(source) }
    }

    public var counts: Counters { counters.withLock { $0 } }

    /// Every informer; the workers start once all have their first list (the Pod refusals too, or a Session waiting on
    /// a quota would be told "JobCreated" for a moment and its wait recorded twice).
    private var informers: [Informer] { [sessions, jobs, pods, policies, podRefusals] }

    /// The Events the job controller records when it cannot create a Job's Pod, as kube's does.
    static let podRefusalSelector = "involvedObject.kind=Job,reason=FailedCreate"

    /// Starts the informers, then the workers once every cache has its first list (so a Session is never
    /// reconciled against an empty Job cache, which would create its Job again).
    public func start() {
        for informer in informers { informer.start() }
        let thread = Thread { [self] in
            while !isStopped, !informers.allSatisfy(\.hasSynced) { usleep(20_000) }
            guard !isStopped else { return }
            configuration.log("session controller: caches synced (\(sessions.cache.count) sessions, \(jobs.cache.count) jobs, \(pods.cache.count) pods, \(policies.cache.count) policies); \(configuration.workers) workers")
            for key in sessions.cache.all().map(ObjectCache.key) { queue.add(key) }
            for index in 0..<max(1, configuration.workers) {
                working.enter()
                let worker = Thread { [self] in
                    defer { working.leave() }
                    work()
                }
                worker.name = "session worker \(index)"
                worker.start()
            }
            scheduleResync()
            scheduleRetention()
        }
        thread.start()
    }

    /// Stops taking work: workers finish their current key, informers end their watches.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        for informer in informers { informer.stop() }
        queue.shutDown(workers: configuration.workers)
    }

    /// After `stop()`: waits until the workers have finished their last key (false if `timeout` passed first).
    public func waitUntilStopped(timeout: TimeInterval) -> Bool { working.wait(timeout: .now() + timeout) == .success }

    public var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func scheduleResync() {
        resync.asyncAfter(deadline: .now() + configuration.resyncInterval) { [weak self] in
            guard let self, !self.isStopped else { return }
            for key in self.sessions.cache.all().map(ObjectCache.key) { self.queue.add(key) }
            self.scheduleResync()
        }
    }

    private func scheduleRetention() {
        guard configuration.retentionInterval > 0 else { return }
        resync.asyncAfter(deadline: .now() + configuration.retentionInterval) { [weak self] in
            guard let self, !self.isStopped else { return }
            self.enforceRetention()
            self.scheduleRetention()
        }
    }

    private func work() {
        while let key = queue.next() {
            defer { queue.done(key) }
            do {
                try reconcile(key: key)
                queue.forget(key)
            } catch {
                counters.withLock { $0.retries += 1 }
                configuration.log("session \(key): \(error); retrying (attempt \(queue.failures(key) + 1))")
                queue.retry(key)
            }
        }
    }

    // MARK: Which Session a change concerns

    enum Source {
        case session(Informer.Change)
        case workload(Informer.Change)
        case policy(Informer.Change)
        /// An Event about a Job (`involvedObject`): its Session, by the Job's label.
        case jobEvent(Informer.Change)
    }

    private func enqueue(_ source: Source) {
        switch source {
        case .session(.deleted(let object)):
            // A deleted Session needs no reconcile, but its namespace's counts change.
            guard let namespace = object["metadata"]?["namespace"]?.stringValue else { return }
            countsChanged(namespace: namespace)
        case .session(let change):
            queue.add(ObjectCache.key(change.object))
        case .workload(let change):
            let object = change.object
            guard let namespace = object["metadata"]?["namespace"]?.stringValue,
                  let session = object["metadata"]?["labels"]?[JobBuilder.sessionLabel]?.stringValue else { return }
            queue.add("\(namespace)/\(session)")
        case .jobEvent(let change):
            let involved = change.object["involvedObject"]
            guard let namespace = involved?["namespace"]?.stringValue, let name = involved?["name"]?.stringValue,
                  let session = jobs.cache.get("\(namespace)/\(name)")?["metadata"]?["labels"]?[JobBuilder.sessionLabel]?.stringValue else { return }
            queue.add("\(namespace)/\(session)")
        case .policy(let change):
            guard let namespace = change.object["metadata"]?["namespace"]?.stringValue else { return }
            // The tenant's ledger moved (a receiver reserved, the controller settled): its other namespaces' conditions follow.
            if case .upserted = change {
                for other in namespaces(sharingLedgerOf: namespace) where other != namespace { countsChanged(namespace: other) }
            }
            // The controller's own status writes (counts, the ledger) change nothing a Session is reconciled against
            // after its start; only a change of the spec (a new generation) re-checks every unfinished Session.
            if case .upserted(let policy) = change {
                let generation = policy["metadata"]?["generation"]?.intValue ?? 0
                let changed = policyGenerations.withLock { seen in
                    defer { seen[namespace] = generation }
                    return seen[namespace] != generation
                }
                guard changed else { return }
            }
            for session in sessions.cache.all(namespace: namespace, where: { !Self.isFinal($0) }) { queue.add(ObjectCache.key(session)) }
        }
    }

    static func isFinal(_ session: JSONObject) -> Bool {
        session["status"]?["phase"]?.stringValue.flatMap(Session.Phase.init(rawValue:)).map { [.completed, .failed, .stopped].contains($0) } ?? false
    }
}

extension Informer.Change {
    var object: JSONObject {
        switch self {
        case .upserted(let object), .deleted(let object): return object
        }
    }
}

/// Lets the informers' handlers reach the controller they are created for.
private final class EnqueueBox: @unchecked Sendable {
    var enqueue: (@Sendable (SessionController.Source) -> Void)?
}
