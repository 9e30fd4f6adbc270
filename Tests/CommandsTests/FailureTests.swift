import Apply
@testable import Commands
import Foundation
import GitSync
import HTTPClient
import LocalCluster
import Model
import Support
import TestSupport
import XCTest

/// `Failure.report`, the one place an error becomes what the user reads and the exit code: each error type's
/// words pinned, most of them made for real (a refused connection, a missing file, an unopenable database).
final class FailureTests: XCTestCase {
    private func report(_ error: Error, command: String = "apply") -> String {
        let (message, code) = Failure.report(error, command: command)
        XCTAssertEqual(code, 2, "every error stops the command with exit 2")
        return message
    }

    func testAUsageErrorPointsAtHelp() {
        XCTAssertEqual(report(UsageError("--concurrency must be a positive number, got \"x\""), command: "diff"),
                       "error: --concurrency must be a positive number, got \"x\"\nRun 'tenantry diff --help' for usage.\n")
    }

    func testABareKubernetesStatusReadsAsKubectlPrintsIt() {
        XCTAssertEqual(report(KubeStatus(code: 404, reason: "NotFound", message: "configmaps \"x\" not found")),
                       "error: Error from server (NotFound): configmaps \"x\" not found\n")
        let invalid = KubeStatus(code: 422, reason: "Invalid", message: "ignored", details: ["kind": "ConfigMap", "name": "x"],
                                 causes: [.init(reason: "FieldValueInvalid", message: "Invalid value: 1: must be a string", field: "data.a")])
        XCTAssertEqual(report(invalid), "error: The ConfigMap \"x\" is invalid: data.a: Invalid value: 1: must be a string\n")
    }

    func testAKubeErrorNamesTheObjectAndTheStep() {
        let object = ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "x")
        let forbidden = KubeStatus(code: 403, reason: "Forbidden", message: "configmaps \"x\" is forbidden: User \"ola\" cannot patch resource \"configmaps\"")
        XCTAssertEqual(report(KubeError.status(forbidden, object: object, step: "apply")),
                       "error: \(object) apply failed: Error from server (Forbidden): configmaps \"x\" is forbidden: User \"ola\" cannot patch resource \"configmaps\"\n")
        XCTAssertEqual(report(KubeError.unknownKind(apiVersion: "tenantry.dev/v1alpha1", kind: "Session", server: "https://127.0.0.1:6443")),
                       "error: the server https://127.0.0.1:6443 does not serve Session in tenantry.dev/v1alpha1; is its CustomResourceDefinition installed? (`kubectl api-resources` lists what it serves)\n")
    }

    func testARefusedConnectionThroughTheCommandLineSaysWhatKubectlSays() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("failure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: nowhere, cluster: {server: "http://127.0.0.1:1"}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: c, context: {cluster: nowhere, user: u}}]
            current-context: c
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let result = CLI.run(["diff", PackagePaths.examples.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(result.code, 2, result.stderr)
        // After the render's progress line, the failure, as kubectl words a refused connection.
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("error: discovery of v1 failed: The connection to the server http://127.0.0.1:1 was refused - did you specify the right host or port? ("), result.stderr)
        XCTAssertFalse(result.stderr.contains(" t\n") || result.stderr.contains("token"), "no token in: \(result.stderr)")
    }

    func testABareHTTPClientFailureNamesTheServerAndWhatToCheck() throws {
        XCTAssertThrowsError(try HTTPClient(connectTimeout: 5).send(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/healthz"))) { error in
            let message = report(error)
            XCTAssertTrue(message.hasPrefix("error: The connection to the server http://127.0.0.1:1/healthz was refused - did you specify the right host or port? ("), message)
            XCTAssertTrue(message.hasSuffix(")\n"), message)
        }
    }

    func testAFileThatCannotBeReadIsNamedWithTheSystemsReason() {
        XCTAssertThrowsError(try String(contentsOfFile: "/nonexistent/tenantry.yaml", encoding: .utf8)) { error in
            XCTAssertEqual(report(error), "error: cannot read /nonexistent/tenantry.yaml: No such file or directory; check the path and its permissions\n")
        }
        XCTAssertEqual(report(POSIXError(.EACCES)), "error: Permission denied\n")
    }

    func testASQLiteFailureNamesTheDatabaseAndWhatToCheck() {
        XCTAssertThrowsError(try SQLiteDatabase(path: "/nonexistent/audit.db")) { error in
            XCTAssertEqual(report(error), "error: SQLite error 14 on /nonexistent/audit.db: unable to open database file; check that the directory is writable and the disk is not full\n")
        }
    }

    func testDomainErrorsArePrintedInTheirOwnWords() {
        XCTAssertEqual(report(StatusError.noLastReconcile(file: "/cache/last-reconcile.json")),
                       "error: no reconcile has been recorded yet (/cache/last-reconcile.json does not exist); run `tenantry reconcile` first or pass --report FILE\n")
        XCTAssertEqual(report(LocalClusterError.notRunning(directory: "/tmp/c")),
                       "error: no local cluster is running in /tmp/c; start one with `tenantry cluster start --dir /tmp/c`\n")
        XCTAssertEqual(report(KubeconfigError(file: "/home/u/.kube/config", field: "current-context", message: "context \"prod\" is not defined")),
                       "error: kubeconfig /home/u/.kube/config (current-context): context \"prod\" is not defined\n")
        XCTAssertEqual(report(KubeError.malformed(step: "list", message: "not JSON")),
                       "error: list failed: the server's answer could not be read: not JSON\n")
    }

    func testAFetchThatFailsThroughTheCommandLineSaysWhatToCheck() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("failure-source-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = CLI.run(["source", "fetch", "--url", directory.appendingPathComponent("missing.git").path, "--cache", directory.appendingPathComponent("cache").path])
        XCTAssertEqual(result.code, 2, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("error: cannot fetch "), result.stderr)
        XCTAssertTrue(result.stderr.hasSuffix("check the URL and that the host is reachable from here\n"), result.stderr)
    }
}
