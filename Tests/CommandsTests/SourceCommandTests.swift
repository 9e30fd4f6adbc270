import Foundation
import TestSupport
import XCTest

/// `tenantry source fetch` and `tenantry status write` through the dispatcher, against a bare repo on disk.
final class SourceCommandTests: XCTestCase {
    func testFetchThenRenderTheCheckoutThenCommitAStatusReport() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-source-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let origin = base.appendingPathComponent("origin.git"), work = base.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        _ = try GitCLI.run(["init", "-q", "--bare", origin.path], in: base)
        _ = try GitCLI.run(["init", "-q", "-b", "main"], in: work)
        for file in ["platform.yaml", "tenants/docs.yaml"] {
            let target = work.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: PackagePaths.examples.appendingPathComponent(file), to: target)
        }
        _ = try GitCLI.run(["add", "-A"], in: work)
        _ = try GitCLI.run(["commit", "-q", "-m", "tenants"], in: work)
        _ = try GitCLI.run(["push", "-q", origin.path, "main"], in: work)
        let head = try GitCLI.run(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)

        let cache = base.appendingPathComponent("cache").path
        let fetch = CLI.run(["source", "fetch", "--url", origin.path, "--cache", cache])
        XCTAssertEqual(fetch.code, 0, fetch.stderr)
        XCTAssertEqual(fetch.stdout, "main@sha1:\(head)\nA platform.yaml\nA tenants/docs.yaml\n")

        let clone = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: cache).first)
        let checkout = "\(cache)/\(clone)/checkout"
        XCTAssertEqual(CLI.run(["render", checkout]).code, 0)

        let report = base.appendingPathComponent("report.json")
        try Data("""
        {"format": "tenantry.status/v1", "revision": "main@sha1:\(head)", "time": "2026-11-26T12:00:00Z",
         "summary": {"tenants": 1, "ready": 1, "notReady": 0},
         "tenants": [{"name": "docs", "ready": true, "applied": ["Namespace/docs"], "pruned": [], "failed": [], "errors": [],
                      "sessions": {"pending": 0, "running": 1, "completed": 2, "failed": 0, "stopped": 0}}]}
        """.utf8).write(to: report)
        let write = CLI.run(["status", "write", "--url", origin.path, "--cache", cache, "--report", report.path])
        XCTAssertEqual(write.code, 0, write.stderr)
        let log = try GitCLI.run(["--git-dir", origin.path, "log", "--format=%an %s", "main"], in: base)
        XCTAssertTrue(log.hasPrefix("Tenantry Bot "), log)
        XCTAssertTrue(log.contains(String(head.prefix(7))) || log.contains(head), "the status commit names the source revision: \(log)")
        XCTAssertTrue(try GitCLI.run(["--git-dir", origin.path, "show", "main:status/tenants/docs.md"], in: base).contains("docs"))
        // The same report again makes no commit.
        let again = CLI.run(["status", "write", "--url", origin.path, "--cache", cache, "--report", report.path])
        XCTAssertEqual(again.code, 0, again.stderr)
        XCTAssertEqual(try GitCLI.run(["--git-dir", origin.path, "rev-list", "--count", "main"], in: base).trimmingCharacters(in: .whitespacesAndNewlines), "2")
    }
}
