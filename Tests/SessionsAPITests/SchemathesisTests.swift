import ApplyTestSupport
import Foundation
import LocalCluster
import Model
import Reconciler
import SessionsAPI
import Support
import TestSupport
import XCTest

/// schemathesis (scripts/setup.sh installs it) against a running `tenantry serve` with specs/contracts/sessions.yaml:
/// every operation the server routes, every check (status codes, content types, headers, response schemas, negative
/// and positive data, auth), with a viewer's and an editor's token from the local cluster holding the example tenants.
final class SchemathesisTests: XCTestCase {
    var cluster: TestAPIServer!
    var serve: Process?
    var directory: URL!

    override func setUpWithError() throws {
        cluster = try TestAPIServer()
        let result = try Reconciler(client: try cluster.client()).reconcile(Reconciler.desired(try Examples.rendered()), frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let serve, serve.isRunning {
            serve.terminate()
            serve.waitUntilExit()
        }
        cluster = nil
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Starts `tenantry serve` on a free port against the test cluster; the port it printed.
    private func startServe() throws -> Int {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("tenantry")
        process.arguments = ["serve", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath, "--port", "0", "--quiet",
                             "--journal", directory.appendingPathComponent("journal.db").path,
                             "--config", directory.appendingPathComponent("absent.yaml").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        serve = process
        var banner = ""
        while !banner.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        let port = banner.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression).flatMap { Int(banner[$0].split(separator: ":")[1]) }
        return try XCTUnwrap(port, "serve printed no port: \(banner)")
    }

    /// The contract's operations no route serves yet (another branch's endpoints), so schemathesis is not asked about them.
    private func unrouted() throws -> [String] {
        let spec = try XCTUnwrap(try YAML.parseDocument(Array(try Data(contentsOf: PackagePaths.root.appendingPathComponent("specs/contracts/sessions.yaml"))))?.json)
        let routed = Set(SessionsAPI.routes.map { "\($0.method.lowercased()) \($0.template)" })
        var missing: [String] = []
        for (path, item) in (spec["paths"]?.objectValue ?? [:]).pairs {
            for (method, operation) in (item.objectValue ?? [:]).pairs where method != "parameters" {
                if !routed.contains("\(method) \(path)"), let id = operation["operationId"]?.stringValue { missing.append(id) }
            }
        }
        return missing.sorted()
    }

    func testTheRunningServerKeepsItsContractForAViewerAndAnEditor() throws {
        let port = try startServe()
        let missing = try unrouted()
        XCTAssertTrue(Set(missing).isSubset(of: ["getSessionLogs", "watchSessionEvents"]), "only the streaming endpoints may be unrouted: \(missing)")
        let users: [(String, String, [String])] = [("viewer", "oncall@acme.example", ["payments-engineers-oncall"]),
                                                   ("editor", "sam@acme.example", ["payments-engineers"])]
        for (role, user, groups) in users {
            let token = try UserTokens.mint(directory: cluster.directory, user: user, groups: groups, validForSeconds: 3600)
            var arguments = ["run", PackagePaths.root.appendingPathComponent("specs/contracts/sessions.yaml").path,
                             "--url", "http://127.0.0.1:\(port)", "-H", "Authorization: Bearer \(token)", "--checks", "all",
                             "--max-examples", "10", "--workers", "1", "--seed", "20261201", "--no-color"]
            for id in missing { arguments += ["--exclude-operation-id", id] }
            let (code, output) = try Tool.run("schemathesis", arguments)
            XCTAssertEqual(code, 0, "schemathesis as the \(role) (\(user)):\n\(output.suffix(6000))")
            XCTAssertTrue(output.contains("Tested: \(15 - missing.count)"), "every routed operation was tested as the \(role):\n\(output.suffix(2000))")
            XCTAssertFalse(output.contains("FAILURES"), output.suffix(4000).description)
        }
    }
}

var productsDirectory: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}
