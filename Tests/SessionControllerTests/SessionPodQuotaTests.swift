import Apply
import Foundation
import Model
import SessionController
import Sessions
import Support
import TestSupport
import XCTest

/// A ResourceQuota on `pods` that refuses a runner Job's Pod, on the local cluster: the job controller records
/// `FailedCreate` on the Job (as kube's does, seen through kubectl), and the Session stays Pending saying so
/// (`WorkloadCreated` False, `QuotaExceeded`, the quota's words, once in its history) until room frees and its Pod is made.
final class SessionPodQuotaTests: XCTestCase {
    func testASessionWaitingForRoomInAPodQuotaSaysSoAndRunsWhenThereIs() throws {
        let cluster = try SessionHarness()
        _ = try cluster.client.create(["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": "runner-pods", "namespace": .string(SessionHarness.namespace)],
                                       "spec": ["hard": ["pods": "1"]]])
        let controller = try cluster.startController()
        let release = cluster.directory + "/release"
        try cluster.createSession("gh-first", command: "while [ ! -e '\(release)' ]; do sleep 0.1; done")
        try eventually("gh-first is Running") { try cluster.phase("gh-first") == "Running" }
        try cluster.createSession("gh-second", command: "echo second ran")

        func waiting() throws -> Condition? {
            try cluster.status("gh-second").conditions[Condition.workloadCreated].flatMap { $0.status == .false ? $0 : nil }
        }
        try eventually("gh-second says it waits for the quota") { try waiting() != nil }
        let condition = try XCTUnwrap(try waiting())
        XCTAssertEqual(condition.reason, SessionMachine.Reason.quotaExceeded)
        let refusal = #"is forbidden: exceeded quota: runner-pods, requested: pods=1, used: pods=1, limited: pods=1"#
        XCTAssertTrue(condition.message.hasPrefix("waiting for room in the namespace's ResourceQuota"), condition.message)
        XCTAssertTrue(condition.message.contains(#"pods "gh-second-run-"#) && condition.message.contains(refusal), condition.message)
        XCTAssertEqual(try cluster.phase("gh-second"), "Pending", "room may free: the session waits")
        XCTAssertEqual(try cluster.status("gh-second").reason, "")
        XCTAssertEqual(try cluster.jobs().compactMap { $0["metadata"]?["name"]?.stringValue }.sorted(), ["gh-first-run", "gh-second-run"])

        // The job controller's Events, as kubectl shows them: Warning FailedCreate on the Job, one per try (each Pod it
        // tried had its own generated name), tried again after a backoff.
        func refusals() throws -> [JSON] {
            let kubectl = try Tool.run("kubectl", ["--kubeconfig", cluster.server.kubeconfigPath, "get", "events", "-n", SessionHarness.namespace,
                                                   "--field-selector", "involvedObject.kind=Job,involvedObject.name=gh-second-run,reason=FailedCreate", "-o", "json"])
            XCTAssertEqual(kubectl.code, 0, kubectl.output)
            return try JSON(parsing: kubectl.output)["items"]?.arrayValue ?? []
        }
        try eventually("the job controller tried again") { try refusals().count >= 2 }
        for event in try refusals() {
            XCTAssertEqual(event["type"], "Warning")
            XCTAssertEqual(event["source"]?["component"], "job-controller")
            XCTAssertEqual(event["count"], 1)
            let message = event["message"]?.stringValue ?? ""
            XCTAssertTrue(message.hasPrefix(#"Error creating: pods "gh-second-run-"#) && message.hasSuffix(refusal), message)
        }

        // A resync reconciles it again: the wait is written once, not at each reconcile or retry.
        let reconciles = controller.counts.reconciles
        try eventually("a resync reconciled the sessions again", within: 60) { controller.counts.reconciles >= reconciles + 2 }
        let history = try cluster.status("gh-second").history.map(\.event)
        XCTAssertEqual(history.filter { $0 == SessionMachine.Reason.quotaExceeded }.count, 1, "\(history)")
        XCTAssertEqual(try cluster.events(for: "gh-second").filter { $0["reason"]?.stringValue == SessionMachine.Reason.quotaExceeded }.count, 1)

        // Room frees: the job controller's next try creates the Pod, the condition clears and the session runs.
        FileManager.default.createFile(atPath: release, contents: Data())
        try eventually("gh-first is Completed") { try cluster.phase("gh-first") == "Completed" }
        try eventually("gh-second is Completed") { try cluster.phase("gh-second") == "Completed" }
        let status = try cluster.status("gh-second")
        XCTAssertEqual(status.conditions[Condition.workloadCreated]?.status, .true)
        XCTAssertEqual(status.conditions[Condition.workloadCreated]?.reason, "JobCreated")
        XCTAssertEqual(status.history.map(\.event).filter { !$0.hasPrefix("Notification") },
                       ["PolicyValidated", "JobCreated", SessionMachine.Reason.quotaExceeded, "Running", "Completed"])
        XCTAssertEqual(controller.counts.quotaRefusals, 0, "a Pod refusal is a wait, not QuotaExceeded's failure")
    }
}
