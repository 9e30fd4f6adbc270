import Commands
import Foundation
import LocalCluster
import Model
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
        let cluster = try TestCluster()
        defer { cluster.stop() }
        cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("x"))
        XCTAssertThrowsError(try run(["reset", "--dir", cluster.directory])) { error in
            XCTAssertTrue("\(error)".contains("already running"), "\(error)")
        }
        XCTAssertThrowsError(try run(["stop", "--dir", cluster.directory + "-none"])) { error in
            XCTAssertTrue("\(error)".contains("no local cluster is running"), "\(error)")
        }
        cluster.server.stop()
        let (code, text) = try run(["reset", "--dir", cluster.directory])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(text.contains("reset"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.directory + "/cluster.db"))
        try cluster.restart()
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/x").status, 404)
    }

    func testStopEndsAServerInAnotherProcess() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lc-stop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("tenantry")
        process.arguments = ["cluster", "start", "--dir", directory]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let banner = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        XCTAssertTrue(banner.contains("local cluster serving at https://127.0.0.1:"), banner)
        let (code, text) = try run(["stop", "--dir", directory])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(text.contains("stopped"))
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "SIGTERM is a graceful stop")
    }
}

final class Output: @unchecked Sendable {
    // Unchecked: `text` is touched only under `lock`.
    private let lock = NSLock()
    private var buffer = ""
    func append(_ text: String) { lock.withLock { buffer += text } }
    var text: String { lock.withLock { buffer } }
}
