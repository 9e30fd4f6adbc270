import Foundation
import Model
import XCTest
@testable import Sessions

/// A settlement (or release) names its Session's uid, so applying it again (a controller killed between the ledger
/// write and the Session's status write) changes nothing; and a Session that would have nothing to run fails first.
final class SettlementOnceTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30
    let monthly = Amount("100")!

    func testASettlementNamingItsSessionIsAppliedOnceAndSurvivesTheStatusRoundTrip() throws {
        let start = try BudgetLedger.empty(monthly: monthly, now: now).reserving(Amount("2.50")!, now: now).reserving(Amount("2.50")!, now: now)
        let once = start.settling(reservation: Amount("2.50")!, reservedIn: "2026-11", actual: Amount("0.42")!, now: now, session: "uid-a")
        XCTAssertEqual(once.spent, Amount("0.42"))
        XCTAssertEqual(once.reserved, Amount("2.50"))
        XCTAssertEqual(once.settled, ["uid-a"])
        // Read back from the status, as a restarted controller would, and applied again: nothing moves.
        let reread = try BudgetLedger(json: once.json, monthly: monthly)
        XCTAssertEqual(reread, once)
        let twice = reread.settling(reservation: Amount("2.50")!, reservedIn: "2026-11", actual: Amount("0.42")!, now: now, session: "uid-a")
        XCTAssertEqual(twice, once)
        XCTAssertEqual(reread.releasing(reservation: Amount("2.50")!, reservedIn: "2026-11", now: now, session: "uid-a"), once)
        // Another Session still settles; a release is remembered the same way.
        let other = twice.releasing(reservation: Amount("2.50")!, reservedIn: "2026-11", now: now, session: "uid-b")
        XCTAssertEqual(other.reserved, Amount(micros: 0))
        XCTAssertEqual(other.settled, ["uid-a", "uid-b"])
        // The list outlives a month's turn, and is pruned once the Sessions' status says they are settled.
        let december = other.rolled(to: Date(timeIntervalSince1970: 1_796_000_000 + 3 * 86_400))
        XCTAssertEqual(december.month, "2026-12")
        XCTAssertEqual(december.settled, ["uid-a", "uid-b"])
        XCTAssertEqual(other.pruned { $0 == "uid-a" }.settled, ["uid-b"])
        // The patch always names the list, so an emptied one is written as empty.
        XCTAssertEqual(other.pruned { _ in true }.statusPatch(resourceVersion: "9")["status"]?["budget"]?["settled"], .array([]))
        XCTAssertEqual(other.statusPatch(resourceVersion: "9")["status"]?["budget"]?["settled"], ["uid-a", "uid-b"])
        // Without a uid (the webhooks' reservations) nothing is remembered.
        XCTAssertEqual(start.settling(reservation: Amount("2.50")!, reservedIn: "2026-11", actual: Amount("1")!, now: now).settled, [])
    }

    func testAScriptSessionWithNoCommandAnywhereFailsBeforeAnyJobWithWhatToDo() {
        let runners = [RunnerFramework(type: "script", image: "ghcr.io/acme/tenantry", versions: ["0.1.0"]),
                       RunnerFramework(type: "aider", image: "ghcr.io/acme/aider", versions: ["0.1.0"])]
        let environment = RunnerEnvironment(runners: runners, apiURL: "http://127.0.0.1:8080", containers: Fixture.rendered.platform.defaults.containers)
        let script = Fixture.session(framework: .init(type: "script", version: "0.1.0", config: ["model": "claude-sonnet-4-5"]))
        var input = Fixture.input(script)
        input.environment = environment
        let decision = SessionMachine.reconcile(input)
        XCTAssertEqual(decision.status.phase, .failed)
        XCTAssertEqual(decision.status.reason, SessionMachine.Reason.noRunnerCommand)
        XCTAssertTrue(decision.status.message.contains("add `command:` to runners[script] in platform.yaml"), decision.status.message)
        XCTAssertTrue(decision.createdJobs.isEmpty)
        XCTAssertEqual(decision.budgetActions, [.releaseBudget(reservation: Amount("2.50")!, month: "2026-11")])

        // With a command in the Session, or in the registry, it runs.
        var withCommand = input
        withCommand.session = Fixture.session(framework: .init(type: "script", version: "0.1.0", config: ["command": "make test"]))
        XCTAssertEqual(SessionMachine.reconcile(withCommand).createdJobs.count, 1)
        var registered = input
        registered.environment.runners[0].command = "make test"
        XCTAssertEqual(SessionMachine.reconcile(registered).createdJobs.count, 1)

        // Where the runner is Tenantry's own executable, a framework it does not run has nothing to run either.
        var foreign = input
        foreign.environment.runnerCommand = ["/usr/local/bin/tenantry"]
        foreign.session = Fixture.session(framework: .init(type: "aider", version: "0.1.0", config: [:]))
        let refused = SessionMachine.reconcile(foreign)
        XCTAssertEqual(refused.status.reason, SessionMachine.Reason.noRunnerCommand)
        XCTAssertTrue(refused.status.message.contains("framework \"aider\" has nothing to run here"), refused.status.message)
        XCTAssertTrue(refused.createdJobs.isEmpty)
    }

    /// The Job's failure can arrive before its Pod's (two watches): the machine waits for the Pod to say why.
    func testAFailedJobWhosePodTheCacheStillShowsRunningWaitsForThePod() {
        let session = Fixture.session()
        let created = Fixture.applying(SessionMachine.reconcile(Fixture.input(session)), to: session)
        let job = Fixture.job(created, failedReason: "BackoffLimitExceeded")
        let stale = SessionMachine.reconcile(Fixture.input(created, job: job, pod: ObservedPod(name: Fixture.podName, phase: .running), at: 90))
        XCTAssertEqual(stale.status.phase, .pending)
        XCTAssertEqual(stale.requeueAfter, 1)
        XCTAssertTrue(stale.budgetActions.isEmpty)
        let lost = SessionMachine.reconcile(Fixture.input(created, job: job, pod: ObservedPod(name: Fixture.podName, phase: .failed, reason: "NodeLost"), at: 91))
        XCTAssertEqual(lost.status.reason, SessionMachine.Reason.nodeLost)
    }
}
