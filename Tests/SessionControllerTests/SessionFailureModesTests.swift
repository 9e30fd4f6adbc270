import Apply
import Artifacts
import Foundation
import Model
import SessionController
import Sessions
import Support
import TestSupport
import XCTest

/// What happens around the lifecycle on a real local cluster: retention, the namespace's ResourceQuota, a Session
/// with nothing to run, a settlement found already in the ledger, the cluster restarted under a running Session,
/// the history archived past 1,000 entries, and the NamespacePolicy's conditions and the controller's metrics.
final class SessionFailureModesTests: XCTestCase {
    func testRetentionDeletesOnlyTheSessionsAndArtifactsOldEnough() throws {
        let cluster = try SessionHarness()
        _ = try cluster.client.apply(["apiVersion": .string(NamespacePolicy.apiVersion), "kind": .string(NamespacePolicy.kind),
                                      "metadata": ["name": "policy", "namespace": .string(SessionHarness.namespace)],
                                      "spec": ["retention": ["sessions": "1h", "artifacts": "2h"]]], force: true)
        let clock = TestClock()
        let store = LocalArtifactStore(root: cluster.directory + "/artifacts", clock: { clock.now })
        let controller = try cluster.startController { configuration in
            configuration.clock = { clock.now }
            configuration.retentionInterval = 0
            configuration.expireArtifacts = { namespace, cutoff in
                try store.deleteExpired(namespace: namespace, before: cutoff).map { "\($0.namespace)/\($0.session)/\($0.name)" }
            }
        }
        func log(_ session: String) throws {
            _ = try store.put(try ArtifactKey(namespace: SessionHarness.namespace, session: session, name: "runner.log"), bytes: Array("ok\n".utf8), contentType: "text/plain")
        }
        try cluster.createSession("gh-old", command: "echo old")
        try eventually("gh-old is Completed") { try cluster.phase("gh-old") == "Completed" }
        try log("gh-old")
        clock.advance(50 * 60)
        try cluster.createSession("gh-young", command: "echo young")
        try eventually("gh-young is Completed") { try cluster.phase("gh-young") == "Completed" }
        try log("gh-young")
        let release = cluster.directory + "/release"
        try cluster.createSession("gh-live", command: "while [ ! -e '\(release)' ]; do sleep 0.1; done")
        try eventually("gh-live is Running") { try cluster.phase("gh-live") == "Running" }

        // 70 minutes on: gh-old ended 70 min ago (past 1h), gh-young 20 min ago; no artifact is 2h old.
        clock.advance(20 * 60)
        let first = controller.enforceRetention()
        XCTAssertEqual(first.sessions, ["acme/gh-old"])
        XCTAssertEqual(first.artifacts, [])
        try eventually("gh-old is gone, with its Job") {
            try cluster.session("gh-old") == nil && !cluster.jobs().contains { $0["metadata"]?["name"]?.stringValue == "gh-old-run" }
        }
        XCTAssertNotNil(try cluster.session("gh-young"))

        // 2h10m on: gh-young ended 80 min ago; gh-old's log is 2h10m old, gh-young's 1h20m; gh-live runs, however old.
        clock.advance(60 * 60)
        let second = controller.enforceRetention()
        XCTAssertEqual(second.sessions, ["acme/gh-young"])
        XCTAssertEqual(second.artifacts, ["acme/gh-old/runner.log"])
        XCTAssertEqual(try store.list(namespace: SessionHarness.namespace, session: "gh-young").map(\.key.name), ["runner.log"])
        XCTAssertEqual(try cluster.phase("gh-live"), "Running")
        XCTAssertEqual(controller.counts.sessionsDeleted, 2)
        XCTAssertEqual(controller.counts.artifactsDeleted, 1)
        XCTAssertTrue(cluster.logs.all.contains { $0.hasPrefix("retention: deleted session acme/gh-old (Completed since") }, "\(cluster.logs.all)")
        XCTAssertTrue(cluster.logs.all.contains { $0.hasPrefix("retention: deleted artifact acme/gh-old/runner.log") })
        let metrics = controller.metricsText()
        XCTAssertTrue(metrics.contains("tenantry_session_retention_deleted_total{kind=\"session\"} 2\n"), metrics)
        XCTAssertTrue(metrics.contains("tenantry_session_retention_deleted_total{kind=\"artifact\"} 1\n"), metrics)
        // Nothing more is old enough: a pass deletes nothing.
        XCTAssertEqual(controller.enforceRetention(), SessionController.RetentionPass())
        FileManager.default.createFile(atPath: release, contents: Data())
        try eventually("gh-live is Completed") { try cluster.phase("gh-live") == "Completed" }
    }

    func testAJobTheResourceQuotaRefusesFailsTheSessionWithQuotaExceededOnce() throws {
        let cluster = try SessionHarness()
        _ = try cluster.client.create(["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": "runner-jobs", "namespace": .string(SessionHarness.namespace)],
                                       "spec": ["hard": ["count/jobs.batch": "1"]]])
        let controller = try cluster.startController()
        let release = cluster.directory + "/release"
        try cluster.createSession("gh-first", command: "while [ ! -e '\(release)' ]; do sleep 0.1; done")
        try eventually("gh-first is Running") { try cluster.phase("gh-first") == "Running" }
        try cluster.createSession("gh-second", command: "echo never runs")
        try eventually("gh-second is Failed") { try cluster.phase("gh-second") == "Failed" }
        let status = try cluster.status("gh-second")
        XCTAssertEqual(status.reason, SessionMachine.Reason.quotaExceeded)
        XCTAssertTrue(status.message.contains(#"jobs.batch "gh-second-run" is forbidden: exceeded quota: runner-jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1"#),
                      status.message)
        XCTAssertEqual(status.cost.actual, Amount(micros: 0), "released, never charged")
        XCTAssertEqual(try cluster.jobs().compactMap { $0["metadata"]?["name"]?.stringValue }, ["gh-first-run"])
        XCTAssertTrue(try cluster.events(for: "gh-second").contains { $0["reason"]?.stringValue == "QuotaExceeded" })
        // Permanent: resyncs reconcile it again (every 5 s here) and never create again.
        let reconciles = controller.counts.reconciles
        try eventually("a resync reconciled the sessions again", within: 60) { controller.counts.reconciles >= reconciles + 2 }
        XCTAssertEqual(controller.counts.quotaRefusals, 1)
        XCTAssertTrue(controller.metricsText().contains("tenantry_session_quota_exceeded_total 1\n"))
        XCTAssertEqual(try cluster.phase("gh-second"), "Failed")
        FileManager.default.createFile(atPath: release, contents: Data())
        try eventually("gh-first is Completed") { try cluster.phase("gh-first") == "Completed" }
    }

    func testAScriptSessionWithNothingToRunFailsWithNoJob() throws {
        let cluster = try SessionHarness()
        let controller = try cluster.startController { configuration in
            for index in configuration.environment.runners.indices { configuration.environment.runners[index].command = nil }
        }
        try cluster.createSession("gh-empty", command: nil)
        try eventually("gh-empty is Failed") { try cluster.phase("gh-empty") == "Failed" }
        let status = try cluster.status("gh-empty")
        XCTAssertEqual(status.reason, SessionMachine.Reason.noRunnerCommand)
        XCTAssertTrue(status.message.contains("add `command:` to runners[script] in platform.yaml, or create the session with framework.config.command"), status.message)
        XCTAssertTrue(try cluster.jobs().isEmpty)
        XCTAssertEqual(controller.counts.jobsCreated, 0)
    }

    /// The state a controller killed between the ledger write and the Session's status write leaves: the ledger holds
    /// the settlement (and the Session's uid), the Session's status does not say Completed. The next controller
    /// finishes the status without charging again.
    func testASettlementAlreadyInTheLedgerIsNotChargedAgain() throws {
        let cluster = try SessionHarness()
        let usage = #"{"type":"usage","inputTokens":10,"outputTokens":5,"cost":"0.42"}"#
        try cluster.startController()
        try cluster.createSession("gh-once", command: "echo '\(usage)'; echo done")
        try eventually("gh-once is Completed") { try cluster.phase("gh-once") == "Completed" }
        let uid = try XCTUnwrap(try cluster.session("gh-once")?["metadata"]?["uid"]?.stringValue)
        XCTAssertEqual(try cluster.ledger()?.spent, Amount("0.42"))
        XCTAssertEqual(try cluster.ledger()?.settled, [uid])
        cluster.stopController()

        // Put the status back to what it was before the final write (as the crash left it).
        var status = try cluster.status("gh-once")
        status.phase = .running
        status.reason = ""
        status.completionTime = nil
        status.cost.actual = nil
        status.history.removeLast()
        status.conditions.removeAll { $0.type == Condition.succeeded }
        guard case .object(let body) = status.json else { return XCTFail("status is an object") }
        _ = try cluster.client.patchStatus(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: SessionHarness.namespace, name: "gh-once"),
                                           status: body)
        XCTAssertEqual(try cluster.phase("gh-once"), "Running")

        let second = try cluster.startController()
        try eventually("gh-once is Completed again") { try cluster.phase("gh-once") == "Completed" }
        XCTAssertEqual(try cluster.ledger()?.spent, Amount("0.42"), "charged once")
        XCTAssertEqual(second.counts.settlementsSkipped, 1)
        XCTAssertEqual(try cluster.status("gh-once").cost.actual, Amount("0.42"))

        // The next settlement prunes the uid whose final status is now written.
        try cluster.createSession("gh-next", command: "echo '\(usage)'; echo done")
        try eventually("gh-next is Completed") { try cluster.phase("gh-next") == "Completed" }
        let next = try XCTUnwrap(try cluster.session("gh-next")?["metadata"]?["uid"]?.stringValue)
        XCTAssertEqual(try cluster.ledger()?.spent, Amount("0.84"))
        XCTAssertEqual(try cluster.ledger()?.settled, [next])
    }

    func testAClusterRestartUnderARunningSessionIsNodeLost() throws {
        let cluster = try SessionHarness()
        try cluster.startController()
        let pidFile = cluster.directory + "/node.pid"
        try cluster.createSession("gh-node", command: "echo $$ > '\(pidFile)'; exec sleep 600")
        try eventually("gh-node is Running") { try cluster.phase("gh-node") == "Running" }
        var pid: Int32 = 0
        try eventually("the script wrote its pid") {
            pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            return pid > 0
        }
        try cluster.restartCluster()
        eventually("the script's process is gone") { !SessionHarness.isAlive(pid) }
        // The controller's watches fail while the cluster is down and list again once it is back.
        try eventually("gh-node is Failed") { try cluster.phase("gh-node") == "Failed" }
        let status = try cluster.status("gh-node")
        XCTAssertEqual(status.reason, SessionMachine.Reason.nodeLost)
        XCTAssertEqual(status.message, "the node running the session was lost")
        XCTAssertEqual(try cluster.jobs().count, 1, "backoffLimit 0: no second Pod")
    }

    func testHistoryPastOneThousandEntriesIsArchivedUnchanged() throws {
        let cluster = try SessionHarness()
        try cluster.createSession("gh-long", command: "echo done")
        // A long life so far: 999 entries (written here as the controller would have written them).
        let old = (1...999).map { index in
            HistoryEntry(timestamp: Date(timeIntervalSince1970: 1_796_000_000 + Double(index)), event: "Noted", data: ["n": .int(index)])
        }
        let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: SessionHarness.namespace, name: "gh-long")
        _ = try cluster.client.patchStatus(reference, status: ["phase": "Pending", "history": .array(old.map(\.json))])
        let store = LocalArtifactStore(root: cluster.directory + "/artifacts")
        try cluster.startController { configuration in
            configuration.archive = { namespace, session, name, bytes in
                _ = try store.put(try ArtifactKey(namespace: namespace, session: session, name: name), bytes: Array(bytes), contentType: "application/json")
            }
        }
        try eventually("gh-long is Completed") { try cluster.phase("gh-long") == "Completed" }
        let status = try cluster.status("gh-long")
        XCTAssertEqual(status.archivedHistory, 101)
        XCTAssertEqual(status.history.first, old[101], "the oldest kept is entry 102, unchanged")
        XCTAssertEqual(status.history.last?.event, "Completed")
        XCTAssertTrue(status.history.contains { $0.event == "JobCreated" })
        let archive = try store.get(try ArtifactKey(namespace: SessionHarness.namespace, session: "gh-long", name: "history-0000001-0000101.json"), range: nil)
        let entries = try XCTUnwrap(try JSON(parsing: String(decoding: archive.bytes, as: UTF8.self)).arrayValue)
        XCTAssertEqual(entries.count, 101)
        XCTAssertEqual(entries.first, old[0].json)
        XCTAssertEqual(entries.last, old[100].json)
    }

    func testTheNamespacePolicyStatusCarriesCountsAndConditions() throws {
        let cluster = try SessionHarness()
        try cluster.startController()
        try cluster.createSession("gh-count", command: "echo done")
        try eventually("gh-count is Completed") { try cluster.phase("gh-count") == "Completed" }
        try eventually("the NamespacePolicy is Ready with its counts") {
            let status = try cluster.policy()["status"]
            let ready = status?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
            return status?["sessions"]?["completed"] == .int(1) && ready?["status"] == "True" && ready?["reason"] == "Accepting"
        }
        let policy = try cluster.policy()
        let conditions = try XCTUnwrap(policy["status"]?["conditions"]?.arrayValue)
        XCTAssertEqual(conditions.compactMap { $0["type"]?.stringValue }, ["Ready", "BudgetAvailable"])
        XCTAssertEqual(conditions[1]["reason"], "WithinBudget")
        for condition in conditions {
            XCTAssertNotNil(condition["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse))
            XCTAssertEqual(condition["observedGeneration"], policy["metadata"]?["generation"])
        }
        XCTAssertEqual(policy["status"]?["observedGeneration"], policy["metadata"]?["generation"])
    }
}
