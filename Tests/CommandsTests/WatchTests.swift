import Apply
import ApplyTestSupport
import Commands
import Foundation
import GitSync
import Reconciler
import TestSupport
import XCTest

/// The reconcile loop (`reconcile --watch`, `serve --reconcile`) with a git source: a round at start, then one as soon as a push webhook for the
/// repository asks for it (`SourceRefresh.requestRefresh`), long before the interval.
final class WatchTests: XCTestCase {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ line: String) { lock.withLock { text += line } }
        var all: String { lock.withLock { text } }
    }

    func testAPushWebhookWakesTheWatchAtOnce() throws {
        let cluster = try TestAPIServer()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let origin = base.appendingPathComponent("origin.git"), work = base.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try GitCLI.publish(URL(fileURLWithPath: Examples.tenants), as: origin, work: work)

        let source = SourceConfig(url: origin.path, interval: .seconds(3600), cacheDirectory: base.appendingPathComponent("cache").path)
        let lines = Lines(), logs = Lines(), rounds = Lines()
        let loop = try ReconcileLoop(source: source, client: try cluster.client(), stderr: { logs.append($0) }, stdout: { lines.append($0) })
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            loop.run { rounds.append("\($0.fetched.revision) \($0.code)\n") }
            finished.signal()
        }
        eventually("the first round applies the examples") { lines.all.contains("NamespacePolicy/docs/policy created\n") }
        // Its status report is pushed after the apply lines: wait for it, or it can land between the pull and the push below.
        eventually("the first round's status report is pushed") { logs.all.contains("status: committed") }

        let file = work.appendingPathComponent("tenants/docs.yaml")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "monthly: \"200.00\"", with: "monthly: \"300.00\"")
        try text.write(to: file, atomically: true, encoding: .utf8)
        try GitCLI.run(["commit", "-q", "-am", "docs: a bigger budget"], in: work)
        // The reconcile committed its status report upstream meanwhile: rebase onto it, as a person would.
        try GitCLI.run(["pull", "-q", "--rebase", origin.path, "main"], in: work)
        try GitCLI.run(["push", "-q", origin.path, "main"], in: work)
        XCTAssertEqual(SourceRefresh.requestRefresh(repositoryURL: origin.path), 1, "one poller follows the repository")
        eventually("the push is reconciled without waiting for the hour") { lines.all.contains("NamespacePolicy/docs/policy configured\n") }

        loop.stop()
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "stop ends the watch")
        XCTAssertTrue(logs.all.contains("status: committed"), logs.all)
        XCTAssertEqual(rounds.all.split(separator: "\n").count, 2, rounds.all)
        XCTAssertTrue(rounds.all.split(separator: "\n").allSatisfy { $0.hasSuffix(" 0") }, "both rounds converged: \(rounds.all)")
    }
}
