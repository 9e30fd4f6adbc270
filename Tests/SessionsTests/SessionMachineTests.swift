import Foundation
import Model
import XCTest
@testable import Sessions

final class SessionMachineTests: XCTestCase {
    typealias Reason = SessionMachine.Reason

    /// A new session through the happy path: validated, no approval needed, Job created, Running, Completed.
    func testAnAdmittedSessionGetsOneJobThenRunsAndCompletesWithItsSummarySettled() throws {
        var session = Fixture.session()
        let first = SessionMachine.reconcile(Fixture.input(session))
        XCTAssertEqual(first.status.phase, .pending)
        XCTAssertEqual(first.createdJobs.count, 1)
        XCTAssertEqual(first.actions.filter { if case .createConfigMap = $0 { return true }; return false }.count, 1)
        XCTAssertEqual(first.status.conditions.map(\.type), ["PolicyValidated", "Approved", "WorkloadCreated"])
        XCTAssertEqual(first.status.conditions.map(\.status), [.true, .true, .true])
        XCTAssertEqual(first.status.conditions[Condition.approved]?.reason, "NotRequired")
        XCTAssertEqual(first.status.workload.jobName, "gh-72d3162e-run")
        XCTAssertEqual(first.status.history.map(\.event), ["PolicyValidated", "JobCreated"])
        XCTAssertEqual(first.status.cost, .init(estimated: Amount("2.50"), actual: nil, currency: "USD"))
        XCTAssertEqual(first.events.map(\.reason), ["JobCreated"])
        XCTAssertTrue(first.statusChanged)
        XCTAssertTrue(first.budgetActions.isEmpty)
        session = Fixture.applying(first, to: session)

        // The Job is not in the cache yet: creating it again is harmless (AlreadyExists), and nothing new is recorded.
        let again = SessionMachine.reconcile(Fixture.input(session, at: 61))
        XCTAssertEqual(again.createdJobs.count, 1)
        XCTAssertFalse(again.statusChanged, "no new history, no condition moved")

        let started = Date(timeIntervalSince1970: Fixture.created.timeIntervalSince1970 + 70)
        let running = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session),
                                                             pod: ObservedPod(name: Fixture.podName, phase: .running, startTime: started), at: 75))
        XCTAssertEqual(running.status.phase, .running)
        XCTAssertEqual(running.status.startTime, started)
        XCTAssertEqual(running.status.workload, .init(jobName: "gh-72d3162e-run", podName: Fixture.podName))
        XCTAssertEqual(running.status.conditions[Condition.running]?.status, .true)
        XCTAssertEqual(running.events.map(\.reason), ["Running"])
        XCTAssertTrue(running.createdJobs.isEmpty)
        session = Fixture.applying(running, to: session)

        let summary = #"{"result":"success","summary":"Fixed the rounding in invoices","usage":{"inputTokens":1200,"outputTokens":300,"cost":"1.75"},"artifacts":["log","workspace.patch"]}"#
        let pod = ObservedPod(name: Fixture.podName, phase: .succeeded, startTime: started, terminatedReason: "Completed", exitCode: 0,
                              terminationMessage: summary)
        let done = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session, complete: true), pod: pod, at: 300))
        XCTAssertEqual(done.status.phase, .completed)
        XCTAssertEqual(done.status.summary, "Fixed the rounding in invoices")
        XCTAssertEqual(done.status.completionTime, Fixture.created.addingTimeInterval(300))
        XCTAssertEqual(done.status.conditions[Condition.succeeded]?.status, .true)
        XCTAssertEqual(done.status.conditions[Condition.running]?.status, .false)
        XCTAssertEqual(done.status.cost.actual, Amount("1.75"))
        XCTAssertEqual(done.budgetActions, [.settleBudget(reservation: Amount("2.50")!, month: "2026-11", actual: Amount("1.75")!)])
        XCTAssertEqual(done.status.history.map(\.event), ["PolicyValidated", "JobCreated", "Running", "Completed"])
        XCTAssertEqual(done.status.history.last?.data["inputTokens"], 1200)
        session = Fixture.applying(done, to: session)

        // A final phase is never left, whatever is observed next.
        let after = SessionMachine.reconcile(Fixture.input(session, job: nil, pod: nil, at: 400))
        XCTAssertTrue(after.actions.isEmpty)
        XCTAssertFalse(after.statusChanged)
    }

    func testTransitionTimesMoveOnlyWhenAConditionChangesStatus() {
        var session = Fixture.session()
        session = Fixture.applying(SessionMachine.reconcile(Fixture.input(session, at: 10)), to: session)
        let validatedAt = session.status.conditions[Condition.policyValidated]!.lastTransitionTime
        XCTAssertEqual(validatedAt, Fixture.created.addingTimeInterval(10))
        let later = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session),
                                                           pod: ObservedPod(name: Fixture.podName, phase: .pending), at: 500))
        XCTAssertEqual(later.status.conditions[Condition.policyValidated]!.lastTransitionTime, validatedAt)
        XCTAssertEqual(later.status.conditions.map(\.observedGeneration), [1, 1, 1])
        XCTAssertEqual(later.status.phase, .pending, "a pending Pod keeps the session Pending")
    }

    // MARK: Policy re-checked at start

    func testAModelNoLongerAllowedFailsWithPolicyViolationBeforeAnyJob() {
        let policy = Fixture.policy { $0.update("models") { $0.updateObject { $0["blocked"] = ["claude-sonnet-4-5", "claude-haiku-4-5"] } } }
        let decision = SessionMachine.reconcile(Fixture.input(Fixture.session(), policy: policy))
        XCTAssertEqual(decision.status.phase, .failed)
        XCTAssertEqual(decision.status.reason, Reason.policyViolation)
        XCTAssertTrue(decision.status.message.contains("model \"claude-sonnet-4-5\" is no longer allowed"), decision.status.message)
        XCTAssertEqual(decision.status.conditions[Condition.policyValidated]?.status, .false)
        XCTAssertTrue(decision.createdJobs.isEmpty)
        XCTAssertEqual(decision.budgetActions, [.releaseBudget(reservation: Amount("2.50")!, month: "2026-11")])
        XCTAssertEqual(decision.events.map(\.type), [.warning])
        XCTAssertEqual(decision.status.cost.actual, Amount(micros: 0))
    }

    func testAnExhaustedBudgetFailsWithPolicyViolation() {
        let ledger = BudgetLedger(month: "2026-11", monthly: Amount("5000")!, reserved: Amount("2.50")!, spent: Amount("4999")!)
        let decision = SessionMachine.reconcile(Fixture.input(Fixture.session(), policy: Fixture.policy(ledger: ledger)))
        XCTAssertEqual(decision.status.reason, Reason.policyViolation)
        XCTAssertTrue(decision.status.message.contains("budget of 5000.00 USD is exhausted for 2026-11"), decision.status.message)
        XCTAssertTrue(decision.createdJobs.isEmpty)
        // Exactly used up (this session's own reservation included) still starts.
        let full = BudgetLedger(month: "2026-11", monthly: Amount("5000")!, reserved: Amount("2.50")!, spent: Amount("4997.50")!)
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(Fixture.session(), policy: Fixture.policy(ledger: full))).createdJobs.count, 1)
    }

    func testAToolNoLongerAllowedAndAnUnregisteredRunnerVersionAreViolations() {
        let tools = SessionMachine.reconcile(Fixture.input(Fixture.session(tools: ["git", "web-fetch"])))
        XCTAssertEqual(tools.status.reason, Reason.policyViolation)
        XCTAssertTrue(tools.status.message.contains("tool \"web-fetch\""), tools.status.message)
        let runner = SessionMachine.reconcile(Fixture.input(Fixture.session(framework: .init(type: "claude-code", version: "9.9.9", config: [:]))))
        XCTAssertEqual(runner.status.reason, Reason.policyViolation)
        XCTAssertTrue(runner.status.message.contains("has no version \"9.9.9\""), runner.status.message)
        let missing = SessionMachine.reconcile(Fixture.input(Fixture.session(), policy: nil))
        XCTAssertTrue(missing.status.message.contains("has no NamespacePolicy"), missing.status.message)
        XCTAssertTrue(missing.createdJobs.isEmpty)
    }

    // MARK: Approval

    func testAnApprovalIsAwaitedThenReleasesTheSessionWithTheApproverInTheHistory() {
        var session = Fixture.session(namespace: "payments-prod")
        let policy = Fixture.policy("payments-prod", approval: nil)
        let waiting = SessionMachine.reconcile(Fixture.input(session, policy: policy, at: 3600))
        XCTAssertEqual(waiting.status.phase, .pending)
        XCTAssertTrue(waiting.createdJobs.isEmpty)
        XCTAssertEqual(waiting.status.conditions[Condition.approved]?.reason, "AwaitingApproval")
        XCTAssertTrue(waiting.status.conditions[Condition.approved]!.message.contains("payments-leads"))
        XCTAssertEqual(waiting.requeueAfter, 23 * 3600)
        XCTAssertEqual(waiting.events.map(\.reason), ["AwaitingApproval"])
        session = Fixture.applying(waiting, to: session)
        XCTAssertTrue(SessionMachine.reconcile(Fixture.input(session, policy: policy, at: 7200)).events.isEmpty, "announced once")

        session.approval = .init(decision: .approved, by: "alice@acme.example")
        let approved = SessionMachine.reconcile(Fixture.input(session, policy: policy, at: 7200))
        XCTAssertEqual(approved.createdJobs.count, 1)
        XCTAssertEqual(approved.status.conditions[Condition.approved]?.status, .true)
        XCTAssertEqual(approved.status.history.first { $0.event == "Approved" }?.actor, "alice@acme.example")
        XCTAssertNil(approved.requeueAfter)
    }

    func testARejectionFailsTheSessionWithTheRejecter() {
        var session = Fixture.session(namespace: "payments-prod")
        session.approval = .init(decision: .rejected, by: "bob@acme.example")
        let decision = SessionMachine.reconcile(Fixture.input(session, policy: Fixture.policy("payments-prod", approval: nil)))
        XCTAssertEqual(decision.status.phase, .failed)
        XCTAssertEqual(decision.status.reason, Reason.rejected)
        XCTAssertEqual(decision.status.history.first { $0.event == "Rejected" }?.actor, "bob@acme.example")
        XCTAssertEqual(decision.status.history.last?.event, "Failed")
        XCTAssertTrue(decision.createdJobs.isEmpty)
        XCTAssertEqual(decision.budgetActions.count, 1)
    }

    func testNoDecisionWithinTheApprovalTimeoutFailsWithApprovalTimeout() {
        let session = Fixture.session(namespace: "payments-prod", approvalRequired: true)
        let decision = SessionMachine.reconcile(Fixture.input(session, policy: Fixture.policy("payments-prod", approval: nil), at: 24 * 3600))
        XCTAssertEqual(decision.status.reason, Reason.approvalTimeout)
        XCTAssertTrue(decision.createdJobs.isEmpty)
        // A shorter timeout in the policy applies.
        let short = Fixture.policy("payments-prod", approval: nil) { $0.update("approval") { $0.updateObject { $0["timeout"] = "30m" } } }
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, policy: short, at: 1800)).status.reason, Reason.approvalTimeout)
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, policy: short, at: 1799)).status.phase, .pending)
        // The session's own approvalRequired holds even where the namespace needs none.
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, at: 24 * 3600)).status.reason, Reason.approvalTimeout)
    }

    // MARK: Stop

    func testStopDeletesTheJobInTheBackgroundAndRecordsWhoStopped() {
        var session = Fixture.session()
        session = Fixture.applying(SessionMachine.reconcile(Fixture.input(session)), to: session)
        session = Fixture.applying(SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session),
                                                                          pod: ObservedPod(name: Fixture.podName, phase: .running))), to: session)
        session.stop = .init(by: "carol@acme.example")
        let stopped = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: ObservedPod(name: Fixture.podName, phase: .running), at: 120))
        XCTAssertEqual(stopped.status.phase, .stopped)
        XCTAssertEqual(stopped.status.reason, Reason.userRequested)
        XCTAssertEqual(stopped.deletedJobs, ["gh-72d3162e-run"])
        XCTAssertEqual(stopped.status.history.last?.event, "Stopped")
        XCTAssertEqual(stopped.status.history.last?.actor, "carol@acme.example")
        XCTAssertEqual(stopped.status.conditions[Condition.running]?.status, .false)
        XCTAssertEqual(stopped.budgetActions, [.settleBudget(reservation: Amount("2.50")!, month: "2026-11", actual: Amount("2.50")!)],
                       "a stopped run that reported nothing is charged its reservation")
    }

    func testStopBeforeTheJobExistsReleasesTheReservation() {
        var session = Fixture.session(namespace: "payments-prod")
        session.stop = .init(by: "carol@acme.example")
        let decision = SessionMachine.reconcile(Fixture.input(session, policy: Fixture.policy("payments-prod", approval: nil)))
        XCTAssertEqual(decision.status.phase, .stopped)
        XCTAssertTrue(decision.deletedJobs.isEmpty)
        XCTAssertTrue(decision.createdJobs.isEmpty)
        XCTAssertEqual(decision.budgetActions, [.releaseBudget(reservation: Amount("2.50")!, month: "2026-11")])
    }

    // MARK: Failures from the workload

    private func started() -> SessionObject {
        let session = Fixture.session()
        return Fixture.applying(SessionMachine.reconcile(Fixture.input(session)), to: session)
    }

    func testRunnerExitOneFailsWithItsSummaryAndIsChargedTheReportedCost() {
        let session = started()
        let pod = ObservedPod(name: Fixture.podName, phase: .failed, terminatedReason: "Error", exitCode: 1,
                              terminationMessage: #"{"result":"failure","summary":"tests do not pass","usage":{"inputTokens":10,"outputTokens":5,"cost":"0.40"}}"#)
        let decision = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session, failedReason: "BackoffLimitExceeded"), pod: pod))
        XCTAssertEqual(decision.status.phase, .failed)
        XCTAssertEqual(decision.status.reason, Reason.runnerFailed)
        XCTAssertEqual(decision.status.message, "the runner exited 1: tests do not pass")
        XCTAssertEqual(decision.status.summary, "tests do not pass")
        XCTAssertEqual(decision.budgetActions, [.settleBudget(reservation: Amount("2.50")!, month: "2026-11", actual: Amount("0.40")!)])
        XCTAssertEqual(decision.status.history.last?.data["result"], "failure")
    }

    func testARunnerThatStoppedItselfSaysWhy() {
        let session = started()
        func pod(_ result: String) -> ObservedPod {
            ObservedPod(name: Fixture.podName, phase: .failed, terminatedReason: "Error", exitCode: 1,
                        terminationMessage: #"{"result":"\#(result)","summary":"stopped","usage":{"cost":"2.40"}}"#)
        }
        let job = Fixture.job(session, failedReason: "BackoffLimitExceeded")
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, job: job, pod: pod("deadline-exceeded"))).status.reason, Reason.timeout)
        let budget = SessionMachine.reconcile(Fixture.input(session, job: job, pod: pod("budget-exceeded")))
        XCTAssertEqual(budget.status.reason, Reason.budgetExceeded)
        XCTAssertEqual(budget.status.cost.actual, Amount("2.40"))
    }

    func testDeadlineExceededIsTimeout() {
        let session = started()
        let decision = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session, failedReason: "DeadlineExceeded"), pod: nil))
        XCTAssertEqual(decision.status.reason, Reason.timeout)
        XCTAssertTrue(decision.status.message.contains("timeout of 14400s"), decision.status.message)
    }

    func testOOMKilledEvictedAndNodeLostAreTold() {
        let session = started()
        let job = Fixture.job(session, failedReason: "BackoffLimitExceeded")
        let oom = ObservedPod(name: Fixture.podName, phase: .failed, terminatedReason: "OOMKilled", exitCode: 137)
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, job: job, pod: oom)).status.reason, Reason.oomKilled)
        let evicted = ObservedPod(name: Fixture.podName, phase: .failed, reason: "Evicted", message: "The node was low on resource: memory.")
        let evictedDecision = SessionMachine.reconcile(Fixture.input(session, job: job, pod: evicted))
        XCTAssertEqual(evictedDecision.status.reason, Reason.evicted)
        XCTAssertTrue(evictedDecision.status.message.contains("low on resource"))
        let lost = ObservedPod(name: Fixture.podName, phase: .unknown)
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, job: job, pod: lost)).status.reason, Reason.nodeLost)
        // While the Job has retries left it has not failed: the session keeps going.
        let retrying = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: lost))
        XCTAssertEqual(retrying.status.phase, .pending)
    }

    func testImagePullBackOffAndCrashLoopBackOffFailAtOnceAndDeleteTheJob() {
        let session = started()
        let pull = ObservedPod(name: Fixture.podName, phase: .pending, waitingReason: "ImagePullBackOff",
                               waitingMessage: "Back-off pulling image \"ghcr.io/acme/runners/claude-code:1.5.2\"")
        let pulled = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: pull))
        XCTAssertEqual(pulled.status.reason, Reason.imagePullBackOff)
        XCTAssertEqual(pulled.deletedJobs, ["gh-72d3162e-run"])
        XCTAssertEqual(pulled.budgetActions, [.releaseBudget(reservation: Amount("2.50")!, month: "2026-11")])
        let crash = ObservedPod(name: Fixture.podName, phase: .running, waitingReason: "CrashLoopBackOff")
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: crash)).status.reason, Reason.crashLoopBackOff)
        let firstPullError = ObservedPod(name: Fixture.podName, phase: .pending, waitingReason: "ErrImagePull")
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: firstPullError)).status.phase, .pending,
                       "one failed pull is retried by the kubelet")
    }

    func testAJobOfTheSameNameControlledByAnotherObjectIsAConflict() {
        let session = started()
        var job = Fixture.job(session)
        job.ownerUID = "someone-else"
        let decision = SessionMachine.reconcile(Fixture.input(session, job: job))
        XCTAssertEqual(decision.status.reason, Reason.workloadConflict)
        XCTAssertTrue(decision.deletedJobs.isEmpty, "never delete what is not ours")
    }

    func testAJobDeletedWhileRunningFailsTheSession() {
        var session = started()
        session = Fixture.applying(SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: ObservedPod(name: Fixture.podName, phase: .running))), to: session)
        XCTAssertEqual(SessionMachine.reconcile(Fixture.input(session, job: nil)).status.reason, Reason.workloadDeleted)
    }

    func testQuotaRefusalIsPermanent() {
        let decision = SessionMachine.createRefused(Fixture.input(started()), quotaMessage: "exceeded quota: tenant-quota, requested: pods=1, used: pods=30, limited: pods=30")
        XCTAssertEqual(decision.status.phase, .failed)
        XCTAssertEqual(decision.status.reason, Reason.quotaExceeded)
        XCTAssertTrue(decision.status.message.contains("exceeded quota: tenant-quota"))
    }

    func testAPodTheQuotaRefusesIsAWaitSaidOnceAndClearedByThePod() {
        var session = started()
        let refusal = #"Error creating: pods "gh-72d3162e-run-bcdfg" is forbidden: exceeded quota: tenant-quota, requested: pods=1, used: pods=30, limited: pods=30"#
        var input = Fixture.input(session, job: Fixture.job(session))
        input.podRefusal = refusal
        let waiting = SessionMachine.reconcile(input)
        XCTAssertEqual(waiting.status.phase, .pending, "room may free")
        let condition = waiting.status.conditions[Condition.workloadCreated]
        XCTAssertEqual(condition?.status, .false)
        XCTAssertEqual(condition?.reason, Reason.quotaExceeded)
        XCTAssertEqual(condition?.message, #"waiting for room in the namespace's ResourceQuota; the job controller creates the runner's Pod when there is: pods "gh-72d3162e-run-bcdfg" is forbidden: exceeded quota: tenant-quota, requested: pods=1, used: pods=30, limited: pods=30"#)
        XCTAssertEqual(waiting.status.history.last?.event, Reason.quotaExceeded)
        XCTAssertEqual(waiting.status.history.last?.data["jobName"], "gh-72d3162e-run")
        XCTAssertTrue(waiting.budgetActions.isEmpty)
        session = Fixture.applying(waiting, to: session)

        // The next try is refused too, for a Pod of another name (combined after ten): the same wait, nothing recorded.
        input = Fixture.input(session, job: Fixture.job(session), at: 90)
        input.podRefusal = "(combined from similar events): " + refusal.replacingOccurrences(of: "bcdfg", with: "xz245")
        let again = SessionMachine.reconcile(input)
        XCTAssertEqual(again.status.history.count, session.status.history.count)
        XCTAssertTrue(again.status.conditions[Condition.workloadCreated]?.message.contains(#"pods "gh-72d3162e-run-xz245" is forbidden"#) == true)
        XCTAssertEqual(again.status.conditions[Condition.workloadCreated]?.lastTransitionTime, condition?.lastTransitionTime)

        // Stopped while it waits: nothing ran, so the reservation is given back; the Job goes.
        var stopping = session
        stopping.stop = .init(by: "carol@acme.example")
        input = Fixture.input(stopping, job: Fixture.job(stopping), at: 100)
        input.podRefusal = refusal
        let stopped = SessionMachine.reconcile(input)
        XCTAssertEqual(stopped.deletedJobs, ["gh-72d3162e-run"])
        XCTAssertEqual(stopped.budgetActions, [.releaseBudget(reservation: Amount("2.50")!, month: "2026-11")])
        let unseen = SessionMachine.reconcile(Fixture.input(stopping, job: nil, at: 100))
        XCTAssertEqual(unseen.deletedJobs, ["gh-72d3162e-run"], "the Job goes even before the cache has it, or its Pod would still be made")

        // The Pod is created: the condition clears and the session runs.
        let running = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session), pod: ObservedPod(name: Fixture.podName, phase: .running), at: 120))
        XCTAssertEqual(running.status.conditions[Condition.workloadCreated]?.status, .true)
        XCTAssertEqual(running.status.conditions[Condition.workloadCreated]?.reason, "JobCreated")
        XCTAssertEqual(running.status.phase, .running)
        XCTAssertEqual(running.status.history.map(\.event).suffix(3), ["JobCreated", Reason.quotaExceeded, "Running"])
    }

    func testTokensArePricedWhenTheRunnerReportsNoCost() {
        let session = started()
        let pod = ObservedPod(name: Fixture.podName, phase: .succeeded, terminatedReason: "Completed", exitCode: 0,
                              terminationMessage: #"{"result":"success","summary":"ok","usage":{"inputTokens":1500,"outputTokens":500}}"#)
        let decision = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session, complete: true), pod: pod,
                                                              pricing: .per1kTokens(Amount("0.004")!)))
        XCTAssertEqual(decision.status.cost.actual, Amount("0.008"))
        // A malformed summary is recorded, and the run is charged its estimate.
        let bad = ObservedPod(name: Fixture.podName, phase: .succeeded, terminatedReason: "Completed", exitCode: 0, terminationMessage: "all done!")
        let badDecision = SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session, complete: true), pod: bad))
        XCTAssertEqual(badDecision.status.phase, .completed)
        XCTAssertEqual(badDecision.status.cost.actual, Amount("2.50"))
        XCTAssertTrue(badDecision.status.history.contains { $0.event == "SummaryInvalid" })
    }

    // MARK: History

    func testHistoryPastOneThousandEntriesMovesTheOldestToAnArchive() throws {
        var session = Fixture.session()
        session.status.history = (0..<999).map { HistoryEntry(timestamp: Fixture.created, event: "Old\($0)") }
        let decision = SessionMachine.reconcile(Fixture.input(session))
        XCTAssertEqual(decision.status.history.count, HistoryArchive.keep)
        XCTAssertEqual(decision.status.archivedHistory, 101)
        guard case .archiveHistory(let name, let entries)? = decision.actions.first else { return XCTFail("archive comes first") }
        XCTAssertEqual(name, "history-0000001-0000101.json")
        XCTAssertEqual(entries.map(\.event), (0..<101).map { "Old\($0)" })
        XCTAssertEqual(decision.status.history.first?.event, "Old101")
        XCTAssertEqual(decision.status.history.last?.event, "JobCreated")
    }

    func testStatusSurvivesAJSONRoundTrip() throws {
        var session = started()
        session.status.artifacts = [.init(type: .log, location: "local://payments-staging/gh-72d3162e/log", createdAt: Fixture.created)]
        session.status.summary = "done"
        let decoded = SessionStatus(json: try JSON(parsing: session.status.json.compactText))
        XCTAssertEqual(decoded, session.status)
        XCTAssertEqual(SessionStatus(json: nil), SessionStatus())
    }
}
