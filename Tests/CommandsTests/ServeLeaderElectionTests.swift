import Commands
import Foundation
import HTTPClient
import LocalCluster
import Model
import TestSupport
import XCTest

/// `tenantry serve --reconcile --leader-elect`, two replicas as child processes: one holds the Lease and reconciles
/// (its /readyz turns 200 with the tenant table); the other waits. SIGTERM to the leader releases the Lease and the
/// other takes over and reconciles.
final class ServeLeaderElectionTests: XCTestCase {
    private func ready(_ client: HTTPClient, _ port: UInt16) -> Int {
        (try? client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/readyz")))?.status ?? 0
    }

    func testOneReplicaReconcilesAndSigtermHandsTheLeaseToTheOther() throws {
        let source = try ExamplesOrigin("serve-elect")
        defer { source.stop() }
        let base = source.base, cluster = source.cluster
        func lease(_ field: String) -> String {
            (try? source.kubectl(["get", "lease", "tenantry-reconciler", "-n", "default", "-o", "jsonpath={.spec.\(field)}"]).output) ?? ""
        }
        func replica(_ name: String) throws -> ServeProcess {
            let config = try source.config(name)
            return try ServeProcess(arguments: ["serve", "--reconcile", "--leader-elect", "--leader-elect-namespace", "default",
                                                "--config", config.path, "--port", "0", "--quiet", "--kubeconfig", cluster.kubeconfigPath,
                                                "--journal", base.appendingPathComponent("\(name).db").path],
                                    environment: ["POD_NAME": name])
        }
        let client = HTTPClient()
        let a = try replica("controller-a")
        eventually("controller-a holds the Lease") { lease("holderIdentity") == "controller-a" }
        eventually("controller-a reconciled") { ready(client, a.port) == 200 }
        let b = try replica("controller-b")
        defer { _ = b.terminate() }
        // controller-b campaigns but waits: two renewals by controller-a later it has still not reconciled.
        for _ in 0..<2 {
            let renewed = lease("renewTime")
            eventually("controller-a renews") { lease("renewTime") != renewed }
        }
        XCTAssertEqual(lease("holderIdentity"), "controller-a")
        XCTAssertEqual(ready(client, b.port), 503, "the follower has no tenant table: it has not reconciled")

        XCTAssertEqual(a.terminate(), 0, "SIGTERM: a clean stop")
        // Released: the holder is cleared, so controller-b takes it at its next attempt, not after 15 s of expiry.
        eventually("controller-b holds the Lease") { lease("holderIdentity") == "controller-b" }
        XCTAssertEqual(lease("leaseTransitions"), "1")
        eventually("controller-b reconciled") { ready(client, b.port) == 200 }
    }

    /// Runs `tenantry` with `arguments(config)` (a tenantry.yaml whose source is the examples' git repo) under
    /// `--leader-elect` on the Lease default/tenantry-reconciler, takes the Lease from it once it holds it (the admin
    /// writes another holder with a one-hour lease), and returns its exit code and log once it has exited.
    private func exitAfterLosingTheLease(_ name: String, _ arguments: (String) -> [String]) throws -> (code: Int32, log: String) {
        let source = try ExamplesOrigin("lost-\(name)")
        defer { source.stop() }
        let base = source.base, cluster = source.cluster
        func holder() -> String {
            (try? source.kubectl(["get", "lease", "tenantry-reconciler", "-n", "default", "-o", "jsonpath={.spec.holderIdentity}"]))?.output ?? ""
        }
        let config = try source.config("tenantry")
        let log = base.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("tenantry")
        process.arguments = arguments(config.path) + ["--leader-elect", "--leader-elect-namespace", "default", "--kubeconfig", cluster.kubeconfigPath]
        process.environment = ProcessInfo.processInfo.environment.merging(["POD_NAME": "controller-a"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        eventually("controller-a holds the Lease (or exits)") { holder() == "controller-a" || !process.isRunning }
        guard process.isRunning else {
            XCTFail("\(name) exited \(process.terminationStatus) before it held the Lease")
            return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        }
        let taken = try source.kubectl(["patch", "lease", "tenantry-reconciler", "-n", "default", "--type", "merge",
                                        "-p", #"{"spec":{"holderIdentity":"intruder","leaseDurationSeconds":3600}}"#])
        XCTAssertEqual(taken.code, 0, taken.output)
        // It cannot renew a Lease another holds: within the renew deadline (10 s) it stops leading and exits.
        eventually("\(name) exits") { !process.isRunning }
        XCTAssertEqual(holder(), "intruder", "the replica that lost the Lease does not overwrite the new holder")
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// A lost Lease stops `serve` with exit 1, as its usage says ("1 leader election lost"), not 2 (could not start).
    func testALostLeaseStopsServeWithExitCode1AsItsUsageSays() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lost-serve-journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (code, log) = try exitAfterLosingTheLease("serve") { config in
            ["serve", "--reconcile", "--config", config, "--port", "0", "--journal", directory + "/journal.db"]
        }
        XCTAssertEqual(code, Tenantry.ExitCode.leaderElectionLost, log)
        XCTAssertEqual(code, 1, log)
        XCTAssertTrue(log.contains("tenantry serve: stopped: leader election lost"), log)
    }

    /// `reconcile --watch --leader-elect` exits 1 as well (it used to exit 2, its "could not start").
    func testALostLeaseStopsReconcileWatchWithExitCode1() throws {
        let (code, log) = try exitAfterLosingTheLease("reconcile") { config in ["reconcile", "--watch", "--config", config] }
        XCTAssertEqual(code, 1, log)
        XCTAssertTrue(log.contains("leader election lost: Lease default/tenantry-reconciler could not be renewed in time"), log)
    }
}
