import Apply
import ApplyTestSupport
import Commands
import Foundation
import Model
import TestSupport
import XCTest

final class ClusterCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (Int32, String) {
        let output = Output()
        let code = try ClusterCommand.run(arguments, stdout: { output.append($0) }, stderr: { output.append($0) })
        return (code, output.text)
    }

    func testHelpPrintsUsage() throws {
        let (code, text) = try run(["--help"])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(text.contains("tenantry cluster start [--dir DIR] [--port N]"))
        let bench = Output()
        XCTAssertEqual(try ClusterBenchCommand.run(["cluster", "--help"], stdout: { bench.append($0) }, stderr: { bench.append($0) }), 0)
        XCTAssertTrue(bench.text.contains("tenantry bench cluster"))
    }

    func testBadFlagsAreUsageErrors() {
        XCTAssertThrowsError(try run([])) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try run(["start", "--port", "x"])) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try run(["launch"])) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try run(["stop", "--port", "1"])) { XCTAssertTrue($0 is UsageError) }
    }

    func testBenchmarkPrintsWritesReadsAndSize() throws {
        let output = Output()
        let code = try ClusterBenchCommand.run(["--objects", "30", "--clients", "2", "--page-size", "7"], stdout: { output.append($0) }, stderr: { output.append($0) })
        XCTAssertEqual(code, 0, output.text)
        XCTAssertTrue(output.text.contains("30 server-side applies"), output.text)
        XCTAssertTrue(output.text.contains("30 objects in 5 pages"), output.text)
        XCTAssertTrue(output.text.contains("MiB"), output.text)
        XCTAssertTrue(output.text.contains("group commit"), output.text)
        XCTAssertTrue(output.text.range(of: #"creates 30 in [0-9.]+ s: [0-9]+ durable creates/s \([0-9]+ fdatasyncs, [0-9.]+ commits each\)"#, options: .regularExpression) != nil, output.text)
        XCTAssertThrowsError(try ClusterBenchCommand.run(["--objects", "0"], stdout: { _ in }, stderr: { _ in })) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try ClusterBenchCommand.run(["--commit", "sometimes"], stdout: { _ in }, stderr: { _ in })) { XCTAssertTrue($0 is UsageError) }

        let perWrite = Output()
        XCTAssertEqual(try ClusterBenchCommand.run(["--objects", "10", "--clients", "2", "--commit", "per-write"], stdout: { perWrite.append($0) }, stderr: { perWrite.append($0) }), 0)
        XCTAssertTrue(perWrite.text.contains("one fsync per commit"), perWrite.text)
        XCTAssertTrue(perWrite.text.contains("durable creates/s\n"), perWrite.text)
        XCTAssertTrue(perWrite.text.contains("synchronous=FULL"), perWrite.text)
    }

    func testResetRefusesWhileRunningThenRemovesEverything() throws {
        let cluster = try TestAPIServer()
        let client = try cluster.client()
        _ = try client.create(Fixture.configMap("x", namespace: "default"))
        XCTAssertThrowsError(try run(["reset", "--dir", cluster.directory])) { error in
            XCTAssertTrue("\(error)".contains("already running"), "\(error)")
        }
        XCTAssertThrowsError(try run(["stop", "--dir", cluster.directory + "-none"])) { error in
            XCTAssertTrue("\(error)".contains("no local cluster is running"), "\(error)")
        }
        cluster.stop()
        let (code, text) = try run(["reset", "--dir", cluster.directory])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(text.contains("reset"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.directory + "/cluster.db"))
        try cluster.start()
        // A new token and CA: a fresh client from the kubeconfig the restarted cluster wrote.
        XCTAssertNil(try cluster.client().get(ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "x")))
    }

    func testStopEndsAServerInAnotherProcess() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lc-stop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (process, banner) = try startTenantry(["cluster", "start", "--dir", directory])
        XCTAssertTrue(banner.contains("local cluster serving at https://127.0.0.1:"), banner)
        let (code, text) = try run(["stop", "--dir", directory])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(text.contains("stopped"))
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "SIGTERM is a graceful stop")
    }
}

/// `tenantry cluster token` prints the token alone on one line; bad input is a usage error.
extension ClusterCommandTests {
    func testTheTokenCommandPrintsOneLine() throws {
        let cluster = try TestAPIServer()
        let (code, text) = try run(["token", "--dir", cluster.directory, "--user", "ola", "--group", "docs", "--duration", "10m"])
        XCTAssertEqual(code, 0)
        XCTAssertEqual(text.filter { $0 == "\n" }.count, 1, "the token alone on one line")
        XCTAssertEqual(text.split(separator: ".").count, 3, "a JWT: \(text)")
    }

    func testTheTokenCommandRefusesBadInput() throws {
        let directory = try TestAPIServer().directory
        XCTAssertThrowsError(try ClusterCommand.run(["token", "--dir", directory], stdout: { _ in }, stderr: { _ in })) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try ClusterCommand.run(["token", "--dir", directory, "--user", "u", "--duration", "soon"], stdout: { _ in }, stderr: { _ in })) {
            XCTAssertTrue($0 is UsageError)
        }
        XCTAssertThrowsError(try ClusterCommand.run(["token", "--dir", directory, "--user", "system:serviceaccount:default:x"], stdout: { _ in }, stderr: { _ in })) {
            XCTAssertTrue("\($0)".contains("kubectl create token"), "\($0)")
        }
    }
}

final class Output: @unchecked Sendable {
    // Unchecked: `text` is touched only under `lock`.
    private let lock = NSLock()
    private var buffer = ""
    func append(_ text: String) { lock.withLock { buffer += text } }
    var text: String { lock.withLock { buffer } }
}
