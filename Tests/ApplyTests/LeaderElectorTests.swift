@testable import Apply
import ApplyTestSupport
import Foundation
import LocalCluster
import Model
import Support
import Synchronization
import TestKit
import XCTest

/// Leader election on a Lease of the local cluster, with client-go's rules and short durations.
final class LeaderElectorTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws { cluster = try TestAPIServer() }
    override func tearDown() { cluster = nil }

    /// Fired callbacks, in order, per elector.
    final class Events: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    private func config(_ identity: String, lease: TimeInterval = 1.5, renew: TimeInterval = 1, retry: TimeInterval = 0.1) -> LeaderElectionConfig {
        LeaderElectionConfig(leaseName: "test-lease", namespace: "default", identity: identity, leaseDuration: lease, renewDeadline: renew, retryPeriod: retry)
    }

    private func elector(_ config: LeaderElectionConfig, _ events: Events) throws -> LeaderElector {
        let identity = config.identity
        return LeaderElector(config: config, client: try cluster.client(attempts: 1),
                             onStartedLeading: { events.add("\(identity) started") }, onStoppedLeading: { events.add("\(identity) stopped") })
    }

    private var leaseReference: ObjectReference {
        ObjectReference(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "default", name: "test-lease")
    }

    /// The Lease as read, with another holder written in (at the resourceVersion read).
    private func held(by holder: String, _ lease: JSONObject) -> JSONObject {
        var spec = lease["spec"]?.objectValue ?? [:]
        spec["holderIdentity"] = .string(holder)
        var changed = lease
        changed["spec"] = .object(spec)
        return changed
    }

    /// A MicroTime as seconds since 1970, to the microsecond.
    private func seconds(_ microTime: String) throws -> Double {
        let parts = microTime.dropLast().split(separator: ".")
        let whole = try XCTUnwrap(Timestamp.parse(String(parts[0]) + "Z")).timeIntervalSince1970
        return whole + (Double("0." + (parts.count > 1 ? parts[1] : "0")) ?? 0)
    }

    private func lease() throws -> JSONObject? { try cluster.client().get(leaseReference) }

    func testOfTwoElectorsExactlyOneLeadsAndTheLeaseNamesIt() throws {
        let events = Events()
        let a = try elector(config("pod-a"), events), b = try elector(config("pod-b"), events)
        a.start(); b.start()
        defer { a.stop(); b.stop() }
        eventually("someone leads") { a.isLeader || b.isLeader }
        let (leader, follower) = a.isLeader ? (a, b) : (b, a)
        XCTAssertFalse(follower.isLeader)
        let spec = try XCTUnwrap(try lease()?["spec"])
        XCTAssertEqual(spec["holderIdentity"]?.stringValue, leader.config.identity)
        XCTAssertEqual(spec["leaseDurationSeconds"], 2, "1.5 s rounded up to whole seconds")
        XCTAssertEqual(spec["leaseTransitions"], 0)
        XCTAssertNotNil(spec["renewTime"]?.stringValue.flatMap { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) },
                        "renewTime is a MicroTime")
        eventually("the follower has read who leads") { follower.observedHolder == leader.config.identity }
        // Renewals keep it: the renewTime moves, the holder and acquireTime do not.
        let first = spec["renewTime"]?.stringValue
        try eventually("renewed") { try lease()?["spec"]?["renewTime"]?.stringValue != first }
        let later = try XCTUnwrap(try lease()?["spec"])
        XCTAssertEqual(later["holderIdentity"]?.stringValue, leader.config.identity)
        XCTAssertEqual(later["acquireTime"], spec["acquireTime"])
        XCTAssertEqual(events.all, ["\(leader.config.identity) started"])
    }

    /// A leader that stops renewing (hung, partitioned) is replaced only once its Lease has expired, by the
    /// follower's own clock: never sooner than the lease duration after its last renewal.
    func testWhenTheLeaderStopsRenewingTheOtherTakesOverAfterTheLeaseExpires() throws {
        let events = Events()
        let a = try elector(config("pod-a"), events)
        a.start()
        eventually("pod-a leads") { a.isLeader }
        let b = try elector(config("pod-b"), events)
        b.start()
        defer { b.stop() }
        eventually("pod-b has seen pod-a lead") { b.observedHolder == "pod-a" }
        a.abandon()
        // Both times come from this machine's clock, written into the Lease: the last renewal and the takeover.
        let lastRenew = try XCTUnwrap(try lease()?["spec"]?["renewTime"]?.stringValue)
        eventually("pod-b takes over") { b.isLeader }
        let spec = try XCTUnwrap(try lease()?["spec"])
        XCTAssertEqual(spec["holderIdentity"], "pod-b")
        XCTAssertEqual(spec["leaseTransitions"], 1)
        let acquired = try XCTUnwrap(spec["acquireTime"]?.stringValue)
        XCTAssertGreaterThanOrEqual(try seconds(acquired) - seconds(lastRenew), 1.5, "taken over \(lastRenew) → \(acquired): not before the lease expired")
        XCTAssertFalse(a.isLeader)
        XCTAssertEqual(events.all, ["pod-a started", "pod-a stopped", "pod-b started"])
    }

    /// SIGTERM's path: stop() clears the holder, so the follower takes over at its next attempt. The lease
    /// duration here is ten minutes: a takeover that waited for expiry could not happen within the test.
    func testReleaseHandsOverWithoutWaitingForExpiry() throws {
        let events = Events()
        let a = try elector(config("pod-a", lease: 600, renew: 10), events)
        a.start()
        eventually("pod-a leads") { a.isLeader }
        let b = try elector(config("pod-b", lease: 600, renew: 10), events)
        b.start()
        defer { b.stop() }
        eventually("pod-b has seen pod-a lead") { b.observedHolder == "pod-a" }
        a.stop()
        XCTAssertEqual(events.all, ["pod-a started", "pod-a stopped"], "stopped leading before the Lease was released")
        eventually("pod-b takes over") { b.isLeader }
        let spec = try XCTUnwrap(try lease()?["spec"])
        XCTAssertEqual(spec["holderIdentity"], "pod-b")
        XCTAssertEqual(spec["leaseTransitions"], 1)
        XCTAssertEqual(spec["leaseDurationSeconds"], 600)
    }

    /// A leader whose Lease someone else took (it lost a race, or was partitioned while it expired) cannot renew:
    /// it stops leading within the renew deadline, and does not overwrite the new holder.
    func testALeaderWhoseLeaseWasTakenStopsLeadingAndDoesNotOverwriteIt() throws {
        let events = Events()
        let a = try elector(config("pod-a", lease: 600, renew: 1, retry: 0.1), events)
        a.start()
        defer { a.stop() }
        eventually("pod-a leads") { a.isLeader }
        let client = try cluster.client()
        _ = try client.update(held(by: "intruder", try XCTUnwrap(try lease())))
        eventually("pod-a stopped leading") { !a.isLeader }
        XCTAssertEqual(events.all, ["pod-a started", "pod-a stopped"])
        XCTAssertEqual(try lease()?["spec"]?["holderIdentity"], "intruder")
    }

    /// Optimistic concurrency: an update at a resourceVersion that is no longer current is 409 Conflict and
    /// changes nothing; electors racing for one Lease never both win a round.
    func testConflictingUpdatesAre409AndRacingElectorsNeverBothWin() throws {
        let client = try cluster.client()
        let created = try client.create(["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                         "metadata": ["name": "test-lease", "namespace": "default"], "spec": ["holderIdentity": "old", "leaseDurationSeconds": 15]])
        _ = try client.update(held(by: "first", created))
        XCTAssertThrowsError(try client.update(held(by: "second", created))) { error in
            let error = error as? KubeError
            XCTAssertEqual(error?.isStaleVersion, true, "\(String(describing: error))")
            XCTAssertTrue(error?.description.contains("the object has been modified") == true, "\(String(describing: error))")
        }
        XCTAssertEqual(try lease()?["spec"]?["holderIdentity"], "first")
        _ = try client.delete(leaseReference)

        // Rounds of two electors acquiring at the same instant: from no Lease (create races create), then from an
        // expired one (update races update). Each round has exactly one winner.
        let start = Date()
        for round in 0..<10 {
            let a = try elector(config("pod-a"), Events()), b = try elector(config("pod-b"), Events())
            if round >= 5 {
                // Both saw the Lease held by "old" at `start`; at start + 16 s it has expired for both.
                XCTAssertFalse(a.tryAcquireOrRenew(now: start))
                XCTAssertFalse(b.tryAcquireOrRenew(now: start))
            }
            let wins = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                if (index == 0 ? a : b).tryAcquireOrRenew(now: start.addingTimeInterval(16)) { wins.withLock { $0 += 1 } }
            }
            XCTAssertEqual(wins.withLock { $0 }, 1, "round \(round)")
            if round < 4 {
                _ = try client.delete(leaseReference)
            } else {
                _ = try client.update(held(by: "old", try XCTUnwrap(try lease())))
            }
        }
    }

    func testTheConfigurationRefusesUnsafeDurationsAndDefaultsToClientGos() {
        let defaults = LeaderElectionConfig(identity: "p")
        XCTAssertEqual([defaults.leaseDuration, defaults.renewDeadline, defaults.retryPeriod], [15, 10, 2])
        XCTAssertEqual(defaults.leaseName, "tenantry-reconciler")
        XCTAssertEqual(defaults.namespace, "tenantry-system")
        XCTAssertEqual(defaults.problems, [])
        XCTAssertEqual(LeaderElectionConfig(identity: "p", leaseDuration: 10, renewDeadline: 10).problems,
                       ["the lease duration must be longer than the renew deadline"])
        XCTAssertEqual(LeaderElectionConfig.podName(environment: ["POD_NAME": "tenantry-controller-7d9-abc"]), "tenantry-controller-7d9-abc")
        XCTAssertFalse(LeaderElectionConfig.podName(environment: [:]).isEmpty, "the host name otherwise")
    }

    /// The decision alone: free or expired Leases are taken (transitions counted), a live one is left alone.
    func testLeaseDecisions() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let config = LeaderElectionConfig(identity: "me")
        let other = LeaseRecord(holderIdentity: "other", leaseDurationSeconds: 15, acquireTime: "a", renewTime: "r", leaseTransitions: 3)
        XCTAssertEqual(LeaseDecision.decide(current: other, observedAt: now.addingTimeInterval(-14), now: now, config: config), .heldBy("other"))
        guard case .write(let taken) = LeaseDecision.decide(current: other, observedAt: now.addingTimeInterval(-15), now: now, config: config) else {
            return XCTFail("an expired Lease is taken")
        }
        XCTAssertEqual(taken.holderIdentity, "me")
        XCTAssertEqual(taken.leaseTransitions, 4)
        XCTAssertEqual(taken.acquireTime, "2027-01-15T08:00:00.000000Z")
        var free = other
        free.holderIdentity = ""
        guard case .write(let freed) = LeaseDecision.decide(current: free, observedAt: now, now: now, config: config) else {
            return XCTFail("a released Lease is taken at once")
        }
        XCTAssertEqual(freed.leaseTransitions, 4)
        var mine = other
        mine.holderIdentity = "me"
        guard case .write(let renewed) = LeaseDecision.decide(current: mine, observedAt: now, now: now, config: config) else {
            return XCTFail("the holder renews")
        }
        XCTAssertEqual(renewed.acquireTime, "a")
        XCTAssertEqual(renewed.leaseTransitions, 3)
        XCTAssertEqual(renewed.renewTime, "2027-01-15T08:00:00.000000Z")
    }
}
