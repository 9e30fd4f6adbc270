import Apply
import Foundation
import Model
import SessionController
import Sessions
import Support
import TestSupport
import XCTest

/// The whole lifecycle on a real local cluster: the job controller and the node run the `tenantry runner`
/// processes the session controller's Jobs name.
final class SessionLifecycleTests: XCTestCase {
    func testScriptSessionRunsToCompletedWithItsSummaryAndCostSettled() throws {
        let cluster = try SessionHarness()
        try cluster.startController()
        let usage = #"{"type":"usage","inputTokens":1200,"outputTokens":300,"cost":"0.42"}"#
        try cluster.createSession("gh-ok", command: "echo starting; echo '\(usage)'; echo all done")
        var sawRunning = false
        try eventually("gh-ok is Completed") {
            let phase = try cluster.phase("gh-ok")
            if phase == "Running" { sawRunning = true }
            return phase == "Completed"
        }
        let status = try cluster.status("gh-ok")
        XCTAssertEqual(status.summary, "all done")
        XCTAssertEqual(status.cost.actual, Amount("0.42"))
        XCTAssertEqual(status.cost.estimated, Amount("2.50"))
        XCTAssertEqual(status.workload.jobName, "gh-ok-run")
        XCTAssertNotNil(status.workload.podName)
        XCTAssertNotNil(status.startTime)
        XCTAssertNotNil(status.completionTime)
        XCTAssertEqual(status.conditions[Condition.succeeded]?.status, .true)
        let events = status.history.map(\.event)
        XCTAssertEqual(Array(events.prefix(2)), ["PolicyValidated", "JobCreated"], "\(events)")
        XCTAssertTrue(events.contains("Running") || sawRunning, "\(events)")
        XCTAssertEqual(events.last, "Completed")
        // Exactly one Job, owned by the Session; the ledger moved the actual cost to spent.
        let jobs = try cluster.jobs()
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?["metadata"]?["ownerReferences"]?.arrayValue?.first?["uid"]?.stringValue,
                       try cluster.session("gh-ok")?["metadata"]?["uid"]?.stringValue)
        let ledger = try XCTUnwrap(try cluster.ledger())
        XCTAssertEqual(ledger.spent, Amount("0.42"))
        try eventually("the NamespacePolicy counts the completed session") {
            let status = try cluster.policy()["status"]
            return status?["activeSessions"] == .int(0) && status?["sessions"]?["completed"] == .int(1)
        }
        XCTAssertEqual(try cluster.events(for: "gh-ok").compactMap { $0["reason"]?.stringValue }.filter { $0 == "Completed" }.count, 1)
    }

    func testASessionWithoutACommandRunsThePlatformsRegisteredScript() throws {
        let cluster = try SessionHarness()
        try cluster.startController()
        try cluster.createSession("gh-registry", command: nil)
        try eventually("gh-registry is Completed") { try cluster.phase("gh-registry") == "Completed" }
        let status = try cluster.status("gh-registry")
        XCTAssertEqual(status.summary, "done: nothing to change")
        XCTAssertEqual(status.cost.actual, Amount("0.05"))
    }

    func testRunnerExitOneFailsWithItsSummary() throws {
        let cluster = try SessionHarness()
        try cluster.startController()
        try cluster.createSession("gh-fail", command: "echo 'tests: 3 failed'; exit 1")
        try eventually("gh-fail is Failed") { try cluster.phase("gh-fail") == "Failed" }
        let status = try cluster.status("gh-fail")
        XCTAssertEqual(status.reason, SessionMachine.Reason.runnerFailed)
        XCTAssertTrue(status.message.contains("tests: 3 failed"), status.message)
        XCTAssertEqual(status.conditions[Condition.succeeded]?.status, .false)
        // Charged the estimate (the runner reported no cost, and the model is priced per session).
        XCTAssertEqual(try cluster.ledger()?.spent, Amount("2.50"))
    }

    func testDeadlineIsTimeoutAndTheProcessIsGone() throws {
        let cluster = try SessionHarness(sessionTimeout: "3s")
        try cluster.startController()
        let pidFile = cluster.directory + "/deadline.pid"
        try cluster.createSession("gh-slow", command: "echo $$ > '\(pidFile)'; exec sleep 600")
        var pid: Int32 = 0
        try eventually("the script wrote its pid") {
            pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            return pid > 0
        }
        try eventually("gh-slow is Failed") { try cluster.phase("gh-slow") == "Failed" }
        XCTAssertEqual(try cluster.status("gh-slow").reason, SessionMachine.Reason.timeout)
        eventually("the script's process is gone") { !SessionHarness.isAlive(pid) }
    }

    func testStopMidRunIsStoppedByTheUserAndTheProcessIsGone() throws {
        let cluster = try SessionHarness()
        try cluster.startController()
        let pidFile = cluster.directory + "/stop.pid"
        try cluster.createSession("gh-stop", command: "echo $$ > '\(pidFile)'; exec sleep 600")
        try eventually("gh-stop is Running") { try cluster.phase("gh-stop") == "Running" }
        var pid: Int32 = 0
        try eventually("the script wrote its pid") {
            pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            return pid > 0
        }
        XCTAssertTrue(SessionHarness.isAlive(pid))
        try cluster.patchSpec("gh-stop", ["stop": true, "stoppedBy": "ada@example.com"])
        try eventually("gh-stop is Stopped") { try cluster.phase("gh-stop") == "Stopped" }
        let status = try cluster.status("gh-stop")
        XCTAssertEqual(status.reason, SessionMachine.Reason.userRequested)
        XCTAssertEqual(status.history.last?.event, "Stopped")
        XCTAssertEqual(status.history.last?.actor, "ada@example.com")
        try eventually("the Job is deleted") { try cluster.jobs().isEmpty }
        eventually("the script's process is gone") { !SessionHarness.isAlive(pid) }
    }

    func testApprovalWaitsThenApproveRunsAndRejectFails() throws {
        let cluster = try SessionHarness(approval: true)
        try cluster.startController()
        try cluster.createSession("gh-approve", command: "echo approved run", approvalRequired: true)
        try cluster.createSession("gh-reject", command: "echo never runs", approvalRequired: true)
        try eventually("both wait for approval") {
            try ["gh-approve", "gh-reject"].allSatisfy { try cluster.status($0).conditions[Condition.approved]?.reason == "AwaitingApproval" }
        }
        XCTAssertEqual(try cluster.phase("gh-approve"), "Pending")
        XCTAssertTrue(try cluster.jobs().isEmpty, "no Job before an approval")
        try cluster.patchSpec("gh-approve", ["approval": ["decision": "approved", "by": "lead@example.com"]])
        try cluster.patchSpec("gh-reject", ["approval": ["decision": "rejected", "by": "lead@example.com"]])
        try eventually("gh-approve is Completed") { try cluster.phase("gh-approve") == "Completed" }
        try eventually("gh-reject is Failed") { try cluster.phase("gh-reject") == "Failed" }
        XCTAssertEqual(try cluster.status("gh-approve").summary, "approved run")
        XCTAssertTrue(try cluster.status("gh-approve").history.contains { $0.event == "Approved" && $0.actor == "lead@example.com" })
        XCTAssertEqual(try cluster.status("gh-reject").reason, SessionMachine.Reason.rejected)
        XCTAssertEqual(try cluster.jobs().map { $0["metadata"]?["name"]?.stringValue }, ["gh-approve-run"])
    }

    func testPolicyChangedBeforeStartIsPolicyViolationWithNoJob() throws {
        let cluster = try SessionHarness()
        // Admitted under the old policy; then the tenant stops allowing the model before the controller starts it.
        try cluster.createSession("gh-policy", command: "echo should not run")
        _ = try cluster.client.apply(["apiVersion": .string(NamespacePolicy.apiVersion), "kind": .string(NamespacePolicy.kind),
                                      "metadata": ["name": "policy", "namespace": .string(SessionHarness.namespace)],
                                      "spec": ["models": ["allowed": ["claude-opus-4-1"], "default": "claude-opus-4-1"]]], force: true)
        XCTAssertEqual(try PolicySnapshot(object: try cluster.policy()).allowedModels, ["claude-opus-4-1"])
        try cluster.startController()
        try eventually("gh-policy is Failed") { try cluster.phase("gh-policy") == "Failed" }
        let status = try cluster.status("gh-policy")
        XCTAssertEqual(status.reason, SessionMachine.Reason.policyViolation)
        XCTAssertEqual(status.conditions[Condition.policyValidated]?.status, .false)
        XCTAssertTrue(try cluster.jobs().isEmpty)
        XCTAssertEqual(status.cost.actual, Amount(micros: 0))
    }

    func testControllerRestartedMidRunCreatesNoSecondJob() throws {
        let cluster = try SessionHarness()
        let release = cluster.directory + "/release"
        try cluster.startController()
        try cluster.createSession("gh-restart", command: "while [ ! -e '\(release)' ]; do sleep 0.1; done; echo released")
        try eventually("gh-restart is Running") { try cluster.phase("gh-restart") == "Running" }
        let first = try XCTUnwrap(try cluster.jobs().first?["metadata"]?["uid"]?.stringValue)
        cluster.stopController()
        // A new controller, with empty caches, as after kill -9: it must find the Job rather than make another.
        let second = try cluster.startController()
        try eventually("the new controller reconciled the session") { second.counts.reconciles > 0 }
        FileManager.default.createFile(atPath: release, contents: Data())
        try eventually("gh-restart is Completed") { try cluster.phase("gh-restart") == "Completed" }
        let jobs = try cluster.jobs()
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?["metadata"]?["uid"]?.stringValue, first)
        XCTAssertEqual(second.counts.jobsCreated, 0)
        XCTAssertEqual(try cluster.status("gh-restart").history.filter { $0.event == "JobCreated" }.count, 1)
    }
}
