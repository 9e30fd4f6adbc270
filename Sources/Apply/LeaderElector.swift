import Foundation
import Model
import Support
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` does it: one
/// replica holds the Lease and renews it every `retryPeriod`; the others wait until they have seen it
/// unchanged for `leaseDuration` (or free) and then take it with an update guarded by resourceVersion.
public struct LeaderElectionConfig: Sendable {
    public var leaseName: String
    public var namespace: String
    /// The holder identity written into the Lease: the pod name.
    public var identity: String
    /// How long others wait, after last seeing the Lease change, before taking it (client-go: 15 s).
    public var leaseDuration: TimeInterval
    /// How long the leader keeps trying to renew before it gives up leading (client-go: 10 s).
    public var renewDeadline: TimeInterval
    /// The pause between attempts (client-go: 2 s).
    public var retryPeriod: TimeInterval

    public init(leaseName: String = "tenantry-reconciler", namespace: String = "tenantry-system", identity: String = LeaderElectionConfig.podName(),
                leaseDuration: TimeInterval = 15, renewDeadline: TimeInterval = 10, retryPeriod: TimeInterval = 2) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// `$POD_NAME` (the Deployment sets it from the downward API), else the host name (a pod's host name is its name).
    public static func podName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let name = environment["POD_NAME"], !name.isEmpty { return name }
        return ProcessInfo.processInfo.hostName
    }

    /// The problems that would make the election unsafe (client-go refuses the same).
    public var problems: [String] {
        var found: [String] = []
        if identity.isEmpty { found.append("the leader election identity is empty (set POD_NAME)") }
        if !(leaseDuration > renewDeadline) { found.append("the lease duration must be longer than the renew deadline") }
        if !(renewDeadline > retryPeriod * 1.2) { found.append("the renew deadline must be longer than 1.2 × the retry period") }
        if retryPeriod <= 0 { found.append("the retry period must be positive") }
        return found
    }
}

/// The Lease's spec as the election reads and writes it.
public struct LeaseRecord: Sendable, Hashable {
    public var holderIdentity: String
    public var leaseDurationSeconds: Int
    public var acquireTime: String
    public var renewTime: String
    public var leaseTransitions: Int

    public init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: String, renewTime: String, leaseTransitions: Int) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }

    init(spec: JSON?) {
        holderIdentity = spec?["holderIdentity"]?.stringValue ?? ""
        leaseDurationSeconds = spec?["leaseDurationSeconds"]?.intValue ?? 0
        acquireTime = spec?["acquireTime"]?.stringValue ?? ""
        renewTime = spec?["renewTime"]?.stringValue ?? ""
        leaseTransitions = spec?["leaseTransitions"]?.intValue ?? 0
    }

    var spec: JSON {
        var spec: JSONObject = ["leaseDurationSeconds": .int(leaseDurationSeconds), "leaseTransitions": .int(leaseTransitions)]
        if !holderIdentity.isEmpty { spec["holderIdentity"] = .string(holderIdentity) }
        if !acquireTime.isEmpty { spec["acquireTime"] = .string(acquireTime) }
        if !renewTime.isEmpty { spec["renewTime"] = .string(renewTime) }
        return .object(spec)
    }
}

/// One decision of the election, pure: given the Lease as read (nil: none), when it was last seen to change
/// (by this replica's clock, never the holder's), and now, what to write, if anything.
public enum LeaseDecision: Sendable, Hashable {
    /// Write this record (create when there was no Lease, else update at the read resourceVersion).
    case write(LeaseRecord)
    /// Someone else holds an unexpired Lease.
    case heldBy(String)

    public static func decide(current: LeaseRecord?, observedAt: Date, now: Date, config: LeaderElectionConfig) -> LeaseDecision {
        let stamp = Timestamp.microTime(now)
        let duration = Int(config.leaseDuration.rounded(.up))
        guard let current else {
            return .write(LeaseRecord(holderIdentity: config.identity, leaseDurationSeconds: duration, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0))
        }
        let holder = current.holderIdentity
        if !holder.isEmpty, holder != config.identity, now < observedAt.addingTimeInterval(config.leaseDuration) {
            return .heldBy(holder)
        }
        var next = current
        if holder == config.identity {
            next.renewTime = stamp
        } else {
            next = LeaseRecord(holderIdentity: config.identity, leaseDurationSeconds: duration, acquireTime: stamp, renewTime: stamp,
                               leaseTransitions: current.leaseTransitions + 1)
        }
        next.leaseDurationSeconds = duration
        return .write(next)
    }
}

/// Runs the election against the API server. `onStartedLeading` runs (on the elector's thread) when the Lease is
/// won; `onStoppedLeading` runs as soon as a renewal cannot be completed before the renew deadline, which is
/// before any other replica may take the Lease (leaseDuration > renewDeadline), so a leader that stops writing
/// in that callback never writes alongside the next one. `stop()` (SIGTERM) releases the Lease: the holder is
/// cleared, and the next replica takes it at its next attempt instead of after the lease duration.
public final class LeaderElector: @unchecked Sendable {
    // Unchecked: `state` is guarded by its Mutex; the rest is immutable after init.
    public let config: LeaderElectionConfig
    private let client: KubeClient
    private let clock: WallClock
    private let onStartedLeading: @Sendable () -> Void
    private let onStoppedLeading: @Sendable () -> Void
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    private struct State {
        var observed: LeaseRecord?
        var observedResourceVersion = ""
        var observedAt = Date.distantPast
        var leading = false
        var lastRenew = Date.distantPast
        var stopping = false
        var lastHolder = ""
        var started = false
    }

    /// `client` should answer within the renew deadline: build it with a timeout below `renewDeadline / 2`.
    public init(config: LeaderElectionConfig, client: KubeClient, clock: WallClock = .system,
                log: @escaping @Sendable (String) -> Void = { _ in },
                onStartedLeading: @escaping @Sendable () -> Void, onStoppedLeading: @escaping @Sendable () -> Void) {
        self.config = config
        self.client = client
        self.clock = clock
        self.log = log
        self.onStartedLeading = onStartedLeading
        self.onStoppedLeading = onStoppedLeading
    }

    public var isLeader: Bool { state.withLock { $0.leading } }

    /// The holder last seen in the Lease ("" when free or never read).
    public var observedHolder: String { state.withLock { $0.observed?.holderIdentity ?? "" } }

    /// Starts electing on a thread of its own; returns at once.
    public func start() {
        let already = state.withLock { state -> Bool in
            defer { state.started = true }
            return state.started
        }
        guard !already else { return }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "leader-elector \(config.leaseName)"
        thread.start()
    }

    /// Stops electing; a leader calls `onStoppedLeading` and then releases the Lease. Returns once done.
    public func stop() {
        let started = state.withLock { state -> Bool in
            state.stopping = true
            return state.started
        }
        if started { finished.wait() }
    }

    /// Stops renewing without releasing, as a replica that hangs or loses the network does (tests use it to
    /// show that the others take over only after the lease duration).
    public func abandon() {
        state.withLock { $0.stopping = true }
        abandoned.withLock { $0 = true }
        let started = state.withLock { $0.started }
        if started { finished.wait() }
    }
    private let abandoned = Mutex(false)

    private var stopping: Bool { state.withLock { $0.stopping } }

    private func run() {
        while !stopping {
            let now = clock.now()
            let acquired = tryAcquireOrRenew(now: now)
            let (wasLeading, lastRenew) = state.withLock { ($0.leading, $0.lastRenew) }
            if acquired {
                state.withLock { $0.leading = true; $0.lastRenew = now }
                if !wasLeading {
                    log("leader election: \(config.identity) acquired Lease \(config.namespace)/\(config.leaseName)")
                    onStartedLeading()
                }
            } else if wasLeading, clock.now().addingTimeInterval(config.retryPeriod) >= lastRenew.addingTimeInterval(config.renewDeadline) {
                // The next attempt could not finish before the deadline: stop writing now, while the Lease is still ours.
                state.withLock { $0.leading = false }
                log("leader election: \(config.identity) could not renew Lease \(config.namespace)/\(config.leaseName) within \(Int(config.renewDeadline)) s; stopped leading")
                onStoppedLeading()
            }
            waitRetryPeriod()
        }
        if state.withLock({ $0.leading }) {
            state.withLock { $0.leading = false }
            onStoppedLeading()
            if !abandoned.withLock({ $0 }) { release() }
        }
    }

    private func waitRetryPeriod() {
        // Jittered as client-go's wait.JitterUntil (factor 1.2), in short slices so stop() is prompt.
        let wait = config.retryPeriod * Double.random(in: 1.0...1.2)
        let end = clock.now().addingTimeInterval(wait)
        while !stopping, clock.now() < end { clock.sleep(min(0.05, config.retryPeriod / 4)) }
    }

    private var reference: ObjectReference {
        ObjectReference(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: config.namespace, name: config.leaseName)
    }

    /// One round of client-go's tryAcquireOrRenew: read, decide, write. False on any failure (logged, never thrown).
    func tryAcquireOrRenew(now: Date) -> Bool {
        do throws(KubeError) {
            let live = try client.get(reference)
            let record = live.map { LeaseRecord(spec: $0["spec"]) }
            let version = live?["metadata"]?["resourceVersion"]?.stringValue ?? ""
            state.withLock { state in
                if record != state.observed || version != state.observedResourceVersion {
                    state.observed = record
                    state.observedResourceVersion = version
                    state.observedAt = now
                }
            }
            let observedAt = state.withLock { $0.observedAt }
            switch LeaseDecision.decide(current: record, observedAt: observedAt, now: now, config: config) {
            case .heldBy(let holder):
                let changed = state.withLock { state -> Bool in
                    defer { state.lastHolder = holder }
                    return state.lastHolder != holder
                }
                if changed { log("leader election: Lease \(config.namespace)/\(config.leaseName) is held by \(holder)") }
                return false
            case .write(let next):
                let stored = live == nil ? try client.create(leaseObject(next, resourceVersion: nil))
                                         : try client.update(leaseObject(next, resourceVersion: version))
                state.withLock { state in
                    state.observed = next
                    state.observedResourceVersion = stored["metadata"]?["resourceVersion"]?.stringValue ?? ""
                    state.observedAt = now
                    state.lastHolder = next.holderIdentity
                }
                return true
            }
        } catch {
            // 409 (someone wrote first: AlreadyExists on create, Conflict on update) loses this round; the next read sees the winner.
            if !(error.isStaleVersion || error.isAlreadyExists) {
                log("leader election: Lease \(config.namespace)/\(config.leaseName): \(error)")
            }
            return false
        }
    }

    private func leaseObject(_ record: LeaseRecord, resourceVersion: String?) -> JSONObject {
        var metadata: JSONObject = ["name": .string(config.leaseName), "namespace": .string(config.namespace)]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .object(metadata), "spec": record.spec]
    }

    /// Clears the holder so the next replica need not wait out the lease duration (client-go ReleaseOnCancel).
    private func release() {
        let (record, version) = state.withLock { ($0.observed, $0.observedResourceVersion) }
        guard var record, record.holderIdentity == config.identity, !version.isEmpty else { return }
        let stamp = Timestamp.microTime(clock.now())
        record.holderIdentity = ""
        record.leaseDurationSeconds = 1
        record.acquireTime = stamp
        record.renewTime = stamp
        do throws(KubeError) {
            _ = try client.update(leaseObject(record, resourceVersion: version))
            log("leader election: \(config.identity) released Lease \(config.namespace)/\(config.leaseName)")
        } catch {
            log("leader election: releasing Lease \(config.namespace)/\(config.leaseName) failed: \(error)")
        }
    }
}
