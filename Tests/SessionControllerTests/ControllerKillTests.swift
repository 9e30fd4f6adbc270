import Apply
import Foundation
import Model
import Sessions
import Support
import TestSupport
import XCTest

/// `tenantry controller` as a child process, killed with SIGKILL while it creates Jobs and settles budgets, then
/// started again: every Session gets exactly one Job, ends Completed, and the ledger is charged once per Session.
final class ControllerKillTests: XCTestCase {
    func testKilledMidReconcileTheControllerConvergesWithOneJobPerSessionAndNoDoubleCharge() throws {
        let cluster = try SessionHarness()
        let usage = #"{"type":"usage","inputTokens":10,"outputTokens":5,"cost":"0.10"}"#
        let names = (1...12).map { "gh-kill-\($0)" }
        for name in names { try cluster.createSession(name, command: "echo '\(usage)'; echo done \(name)") }

        func completed() throws -> Int { try names.filter { try cluster.phase($0) == "Completed" }.count }
        var kills = 0
        var progress = 0
        // Killed three times while there is work left, each time after it made some progress.
        while kills < 3 {
            let controller = try startController(cluster, log: "controller-\(kills).log")
            let before = (jobs: try cluster.jobs().count, done: try completed())
            try eventually("controller \(kills) made progress") {
                try cluster.jobs().count > before.jobs || completed() > before.done || completed() == names.count
            }
            kill(controller.processIdentifier, SIGKILL)
            controller.waitUntilExit()
            XCTAssertEqual(controller.terminationReason, .uncaughtSignal)
            kills += 1
            progress = try completed()
            if progress == names.count { break }
        }
        let last = try startController(cluster, log: "controller-last.log")
        defer { kill(last.processIdentifier, SIGTERM); last.waitUntilExit() }
        try eventually("every session is Completed (\(progress) were before the last start)") { try completed() == names.count }

        let jobs = try cluster.jobs()
        XCTAssertEqual(jobs.compactMap { $0["metadata"]?["name"]?.stringValue }.sorted(), names.map { "\($0)-run" }.sorted())
        for name in names {
            let session = try XCTUnwrap(try cluster.session(name))
            let job = jobs.first { $0["metadata"]?["name"]?.stringValue == "\(name)-run" }
            XCTAssertEqual(job?["metadata"]?["ownerReferences"]?.arrayValue?.first?["uid"], session["metadata"]?["uid"], name)
            let status = SessionStatus(json: session["status"])
            XCTAssertLessThanOrEqual(status.history.filter { $0.event == "JobCreated" }.count, 1, name)
            XCTAssertEqual(status.history.filter { $0.event == "Completed" }.count, 1, name)
            XCTAssertEqual(status.cost.actual, Amount("0.10"), name)
        }
        XCTAssertEqual(try cluster.ledger()?.spent, Amount("1.20"), "12 sessions at 0.10, each charged once")
    }

    private func startController(_ cluster: SessionHarness, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SessionHarness.tenantry)
        process.arguments = ["controller", cluster.repo.path, "--kubeconfig", cluster.server.kubeconfigPath,
                             "--api-url", "http://127.0.0.1:1", "--resync", "2", "--workers", "4"]
        FileManager.default.createFile(atPath: cluster.directory + "/" + log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: cluster.directory + "/" + log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }
}
