import ApplyTestSupport
import Audit
@testable import Commands
import Foundation
import Model
import Support
import Synchronization
import TestSupport
import XCTest

/// `serve` prunes its audit trail on a schedule by the rule `tenantry audit prune` uses: with a clock moved by hand,
/// and end to end (a running `tenantry serve` over a trail seeded with old entries, then `tenantry audit verify`).
final class ServeAuditPruningTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func seed(_ path: String, agesInYears: [Double], now: Date) throws {
        let log = try AuditLog(path: path)
        for (index, age) in agesInYears.enumerated() {
            try log.append(AuditRecord(timestamp: now.addingTimeInterval(-age * 31_536_000), namespace: "docs", session: "s-\(index)",
                                       actor: "sam@acme.example", action: "view", outcome: "succeeded"))
        }
    }

    func testEachPassPrunesWhatTheRetentionNoLongerKeepsAtTheClocksTime() throws {
        let path = directory.appendingPathComponent("audit.db").path
        let start = Date(timeIntervalSince1970: 1_900_000_000)
        try seed(path, agesInYears: [8, 8, 3, 0], now: start)
        let audit = try AuditLog(path: path)
        let clock = Mutex(start)
        let retention = Mutex<AuditRetention?>(nil)
        let lines = Mutex<[String]>([])
        let pruner = AuditPruner(audit: audit, interval: 3600, retention: { retention.withLock { $0 } }, clock: { clock.withLock { $0 } },
                                 log: { line in lines.withLock { $0.append(line) } })

        XCTAssertNil(pruner.prune(), "no tenant table yet: nothing is known to be old enough")
        retention.withLock { $0 = AuditRetention(policies: [TimeSpan("7y")!, TimeSpan("30d")!]) }
        XCTAssertEqual(pruner.prune(), 2)
        XCTAssertEqual(lines.withLock { $0 }, ["audit: pruned 2 entries from before 2023-03-19T17:46:40Z, older than 7y (the longest retention.auditLogs of 2 namespaces)"])
        XCTAssertEqual(pruner.prune(), 0)
        clock.withLock { $0 = start.addingTimeInterval(5 * 31_536_000) }
        XCTAssertEqual(pruner.prune(), 1, "five years on, the 3-year-old entry is past 7y")
        XCTAssertTrue(try audit.verify().intact)
        let verified = CLI.run(["audit", "verify", "--db", path])
        XCTAssertEqual(verified.code, 0, verified.stderr)
        XCTAssertEqual(verified.stdout, "audit trail intact: 1 entries verified\n")
    }

    func testTheFlagsAreCheckedAndGiveTheRetentionAndInterval() throws {
        let flags = try ServeCommand.parse(["--audit-retention", "90d", "--audit-prune-interval", "10m"]).api.auditPruning
        XCTAssertEqual(flags.retention?.seconds, 90 * 86_400)
        XCTAssertEqual(flags.retention?.source, "--audit-retention")
        XCTAssertEqual(flags.interval, 600)
        XCTAssertEqual(try ServeCommand.parse([]).api.auditPruning.interval, 3600)
        XCTAssertNil(try ServeCommand.parse([]).api.auditPruning.retention)
        for (flag, value) in [("--audit-retention", "forever"), ("--audit-prune-interval", "0s")] {
            XCTAssertThrowsError(try ServeCommand.parse([flag, value])) { error in
                XCTAssertTrue("\(error)".contains("\(flag) must be a duration"), "\(error)")
            }
        }
    }

    func testARunningServePrunesByTheLongestPolicyAndTheTrailStillVerifies() throws {
        let cluster = try TestAPIServer()
        let repo = try TempRepo()
        for (name, keep) in [("archive", "10y"), ("scratch", "30d")] {
            try repo.write("tenants/\(name).yaml", TempRepo.tenant(name).replacingOccurrences(of: "policy:\n", with: "policy:\n  retention:\n    auditLogs: \(keep)\n"))
        }
        let path = directory.appendingPathComponent("audit.db").path
        try seed(path, agesInYears: [11, 11, 8, 0], now: Date())
        let log = directory.appendingPathComponent("serve.log").path
        FileManager.default.createFile(atPath: log, contents: nil)
        let serve = Process()
        serve.executableURL = Self.products.appendingPathComponent("tenantry")
        serve.arguments = ["serve", repo.path, "--port", "0", "--quiet", "--journal", directory.appendingPathComponent("journal.db").path,
                           "--config", directory.appendingPathComponent("absent.yaml").path, "--kubeconfig", cluster.kubeconfigPath, "--audit-db", path]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try serve.run()
        defer { if serve.isRunning { serve.terminate(); serve.waitUntilExit() } }
        let said = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        eventually("serve's first pass prunes") { said().contains("audit: pruned") || !serve.isRunning }
        XCTAssertTrue(said().contains("audit: pruned 2 entries from before "), said())
        XCTAssertTrue(said().contains("older than 10y (the longest retention.auditLogs of 2 namespaces)"), said())
        serve.terminate()
        serve.waitUntilExit()
        XCTAssertEqual(serve.terminationStatus, 0, said())
        let verified = CLI.run(["audit", "verify", "--db", path])
        XCTAssertEqual(verified.code, 0, verified.stderr)
        XCTAssertEqual(verified.stdout, "audit trail intact: 2 entries verified\n", "the 8-year-old entry and today's are kept")
    }

    /// Where SwiftPM put the products (the test bundle sits beside them).
    static var products: URL {
        Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
}
