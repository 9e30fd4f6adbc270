import Apply
import Foundation
import Model
import Sessions
import Support
import TestSupport
import XCTest

/// Two `tenantry controller --leader-elect` processes on one local cluster (Lease `tenantry-sessions`, the real 15 s /
/// 10 s / 2 s): one leads and runs Sessions; `kill -9` to it mid-burst and the other takes over once the Lease expires,
/// finishes every Session, and nothing is done twice: one Job and one Pod per Session, at most one `JobCreated` in each
/// history, and the shared ledger settled exactly once per Session (spent = the sum of the actual costs, nothing
/// reserved, no live reservation left).
final class ControllerFailoverTests: XCTestCase {
    func testKillingTheLeaderHandsOverAndNoSessionIsHandledTwice() throws {
        let harness = try SessionHarness()
        func lease(_ field: String) -> String {
            (try? harness.client.get(ObjectReference(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "default", name: "tenantry-sessions")))?
                .flatMap { $0["spec"]?[field]?.stringValue ?? $0["spec"]?[field]?.intValue.map(String.init) } ?? ""
        }
        let a = try ControllerProcess(harness, name: "controller-a")
        defer { a.kill9() }
        eventually("controller-a holds the Lease") { lease("holderIdentity") == "controller-a" }
        let b = try ControllerProcess(harness, name: "controller-b")
        defer { b.kill9() }

        // Sessions admitted on the shared ledger (as `serve --admission cluster` does), short and longer ones, so the
        // kill lands while some run, some are done and some are being settled.
        let names = (0..<8).map { "failover-\($0)" }
        for (index, name) in names.enumerated() {
            try reserve(harness, name)
            try createSession(harness, name, command: index % 2 == 0 ? "echo quick" : "sleep 3; echo slow")
        }
        eventually("controller-a has finished a session") { names.contains { (try? harness.phase($0)) == "Completed" } }
        XCTAssertEqual(lease("holderIdentity"), "controller-a", "controller-b only campaigned")
        XCTAssertFalse(b.log.contains("session controller: leading"), "the follower runs no controller")
        let renewedBeforeKill = lease("renewTime")
        let killed = Date()
        a.kill9()
        eventually("controller-b holds the Lease") { lease("holderIdentity") == "controller-b" }
        let takeover = Date().timeIntervalSince(killed)
        print("controller failover: kill -9 of the leader → controller-b leads after \(String(format: "%.1f", takeover)) s (lease 15 s, retry 2 s)")
        XCTAssertGreaterThanOrEqual(takeover, 10, "controller-b waited for the Lease to expire (last renewal \(renewedBeforeKill))")
        XCTAssertEqual(lease("leaseTransitions"), "1")

        try eventually("controller-b finishes every session") { try names.allSatisfy { try harness.phase($0) == "Completed" } }
        let jobs = try harness.jobs()
        XCTAssertEqual(jobs.count, names.count, "one Job per Session")
        XCTAssertEqual(Set(jobs.compactMap { $0["metadata"]?["name"]?.stringValue }), Set(names.map(JobBuilder.jobName(for:))))
        XCTAssertEqual(try harness.pods().count, names.count, "one Pod per Job: no Session ran twice")
        var actual: Int64 = 0
        for name in names {
            let status = try harness.status(name)
            // At most one: a Job controller-a created just before the kill is adopted by controller-b, not recorded again.
            XCTAssertLessThanOrEqual(status.history.filter { $0.event == "JobCreated" }.count, 1, "\(name): \(status.history.map(\.event))")
            actual += status.cost.actual?.micros ?? 0
        }
        let policy = try harness.policy()
        let ledger = try SharedLedger(status: policy["status"], monthly: try PolicySnapshot(object: policy).budget.monthly, now: Date(),
                                      namespace: SessionHarness.namespace)
        XCTAssertEqual(ledger.live.map(\.session), [], "every reservation settled")
        XCTAssertEqual(ledger.budget.reserved, Amount(micros: 0))
        XCTAssertEqual(ledger.budget.spent, Amount(micros: actual), "settled once each: spent is the sum of the actual costs")
        XCTAssertGreaterThan(actual, 0)

        // SIGTERM releases the Lease (the holder is cleared) so a successor need not wait for it to expire.
        XCTAssertEqual(b.terminate(), 0, b.log)
        XCTAssertEqual(lease("holderIdentity"), "")
    }

    /// Reserves 2.50 for `name` on the namespace's shared ledger by compare-and-swap, as a receiver does.
    func reserve(_ harness: SessionHarness, _ name: String) throws {
        let reference = ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: SessionHarness.namespace,
                                        name: NamespacePolicy.objectName)
        for _ in 0..<50 {
            let object = try XCTUnwrap(try harness.client.get(reference))
            let snapshot = try PolicySnapshot(object: object)
            let ledger = try SharedLedger(status: object["status"], monthly: snapshot.budget.monthly, now: Date(), namespace: SessionHarness.namespace)
            guard case .admitted(let next) = ledger.admitting(name, namespace: SessionHarness.namespace, cost: Amount("2.50")!, limits: .init(maxConcurrentSessions: 50, sessionsPerMinute: 60), now: Date()),
                  case .object(let patch) = next.statusPatch(resourceVersion: snapshot.resourceVersion ?? "") else { return XCTFail("\(name) not admitted") }
            do {
                _ = try harness.client.mergePatchStatus(reference, patch: patch)
                return
            } catch {
                guard error.status?.code == 409 else { throw error }
            }
        }
        XCTFail("\(name): the ledger kept moving")
    }

    func createSession(_ harness: SessionHarness, _ name: String, command: String) throws {
        let session = Session(
            name: name, namespace: SessionHarness.namespace,
            trigger: .init(source: .github, event: "issues.labeled", deliveryID: name, payload: ["title": "Fix rounding"]),
            framework: .init(type: "script", version: "0.1.0", config: ["model": "claude-sonnet-4-5", "command": .string(command)]),
            constraints: .init(allowedModels: ["claude-sonnet-4-5"], budget: Amount("100"), allowedTools: ["git", "shell"], approvalRequired: false))
        var object = session.object
        object.update("metadata") {
            $0.updateObject { $0["annotations"] = ["tenantry.dev/estimated-cost": "2.50", "tenantry.dev/admission": "cluster"] }
        }
        _ = try harness.client.create(object)
    }
}

/// `tenantry controller REPO --leader-elect` as a child process, its log in a file beside the cluster.
final class ControllerProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(_ harness: SessionHarness, name: String) throws {
        process.executableURL = URL(fileURLWithPath: SessionHarness.tenantry)
        process.arguments = ["controller", harness.repo.path, "--kubeconfig", harness.server.kubeconfigPath, "--leader-elect",
                             "--leader-elect-namespace", "default", "--runner-command", SessionHarness.tenantry, "--resync", "5", "--workers", "2"]
        process.environment = ProcessInfo.processInfo.environment.merging(["POD_NAME": name]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        logPath = harness.directory + "/\(name).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
