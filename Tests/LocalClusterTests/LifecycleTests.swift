import Foundation
import Model
import TestKit
import XCTest

final class LifecycleTests: XCTestCase {
    var cluster: TestCluster!

    override func setUpWithError() throws { cluster = try TestCluster() }
    override func tearDown() { cluster.stop() }

    func testDeletingANamespaceDeletesWhatIsInIt() {
        cluster.createNamespace("team")
        cluster.request("POST", "/api/v1/namespaces/team/configmaps", json: configMap("a"))
        cluster.request("POST", "/api/v1/namespaces/team/secrets", json: ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"]])
        cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("a"))
        XCTAssertEqual(cluster.request("DELETE", "/api/v1/namespaces/team").status, 200)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team").status, 404)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team/configmaps/a").status, 404)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/team/secrets/s").status, 404)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/a").status, 200)
    }

    func testSystemNamespacesCannotBeDeleted() {
        let refused = cluster.request("DELETE", "/api/v1/namespaces/default")
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.json["message"], "namespaces \"default\" is forbidden: this namespace may not be deleted")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default").json.at("status", "phase"), "Active")
    }

    func testFinalizersHoldAnObjectAndItsNamespace() {
        cluster.createNamespace("held")
        var object = configMap("keep")
        object.setValueForTest(["example.com/cleanup"], at: "metadata", "finalizers")
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/held/configmaps", json: object).status, 201)

        let deleted = cluster.request("DELETE", "/api/v1/namespaces/held/configmaps/keep")
        XCTAssertEqual(deleted.status, 200)
        XCTAssertNotNil(deleted.json.at("metadata", "deletionTimestamp"))
        XCTAssertEqual(cluster.request("DELETE", "/api/v1/namespaces/held").status, 200)
        let terminating = cluster.request("GET", "/api/v1/namespaces/held")
        XCTAssertEqual(terminating.json.at("status", "phase"), "Terminating")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/held/configmaps/keep").status, 200)

        let released = cluster.request("PATCH", "/api/v1/namespaces/held/configmaps/keep", json: ["metadata": ["finalizers": nil]],
                                       contentType: "application/merge-patch+json")
        XCTAssertEqual(released.status, 200, released.text)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/held/configmaps/keep").status, 404)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/held").status, 404)
    }

    func testObjectsAndVersionsSurviveARestart() throws {
        cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("durable"))
        XCTAssertEqual(cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json: sessionDefinition()).status, 201)
        let before = cluster.request("GET", "/api/v1/namespaces/default/configmaps").json.at("metadata", "resourceVersion")?.stringValue ?? ""
        let token = cluster.server.token
        try cluster.restart()
        XCTAssertEqual(cluster.server.token, token)
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/configmaps/durable").json.at("data", "k"), "v")
        XCTAssertEqual(cluster.request("GET", "/apis/tenantry.dev/v1alpha1/namespaces/default/sessions").status, 200)
        let created = cluster.request("POST", "/api/v1/namespaces/default/configmaps", json: configMap("after"))
        XCTAssertGreaterThan(Int(created.json.at("metadata", "resourceVersion")?.stringValue ?? "") ?? 0, Int(before) ?? .max)
    }

    func testASecondServerOnTheSameDirectoryIsRefused() {
        XCTAssertThrowsError(try TestCluster(directory: cluster.directory)) { error in
            XCTAssertTrue("\(error)".contains("already running"), "\(error)")
        }
    }

    /// A child server is killed with SIGKILL while kubectl keeps writing to it; every write kubectl saw
    /// acknowledged must be there after a restart on the same directory.
    func testKillNineLosesNoAcknowledgedWrite() throws {
        let kubectl = try Kubectl.required()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lc-kill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (process, _) = try startTenantry(["cluster", "start", "--dir", directory])

        let acknowledged = AcknowledgedWrites()
        let writer = Thread {
            for index in 0..<10_000 {
                let name = "ack-\(index)"
                let manifest = directory + "/\(name).json"
                try? configMap(name).compactText.write(toFile: manifest, atomically: true, encoding: .utf8)
                let result = kubectl.run(["--kubeconfig", directory + "/kubeconfig", "--cache-dir", directory + "/cache", "create", "-f", manifest])
                guard result.status == 0 else { break }
                acknowledged.append(name)
            }
            acknowledged.finish()
        }
        writer.start()
        acknowledged.waitForCount(20)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let names = acknowledged.waitForFinish()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertGreaterThanOrEqual(names.count, 20)

        let restarted = try TestCluster(directory: directory)
        defer { restarted.stop(removingData: false) }
        let stored = Set(restarted.request("GET", "/api/v1/namespaces/default/configmaps").json["items"]?.arrayValue?
            .compactMap { $0.at("metadata", "name")?.stringValue } ?? [])
        for name in names { XCTAssertTrue(stored.contains(name), "acknowledged write \(name) lost") }
    }
}

private final class AcknowledgedWrites: @unchecked Sendable {
    // Unchecked: both fields are touched only with `condition` locked.
    private let condition = NSCondition()
    private var names: [String] = []
    private var finished = false

    func append(_ name: String) { condition.withLock { names.append(name); condition.broadcast() } }
    func finish() { condition.withLock { finished = true; condition.broadcast() } }

    func waitForCount(_ count: Int) {
        condition.withLock { while names.count < count && !finished { condition.wait() } }
    }

    func waitForFinish() -> [String] {
        condition.withLock {
            while !finished { condition.wait() }
            return names
        }
    }
}

/// Group commit: concurrent writers share fsyncs, and every acknowledged write is there after a restart.
final class GroupCommitTests: XCTestCase {
    func testConcurrentAcknowledgedCreatesSurviveARestartAndShareSyncs() throws {
        let cluster = try TestCluster()
        defer { cluster.stop() }
        let before = try XCTUnwrap(cluster.server.syncCounts)
        let acknowledged = Acknowledged()
        let done = DispatchGroup()
        let (url, token) = (cluster.server.url, cluster.server.token)
        for worker in 0..<8 {
            done.enter()
            Thread {
                for index in 0..<25 {
                    let name = "w\(worker)-\(index)"
                    let response = TestHTTP.send("POST", url + "/api/v1/namespaces/default/configmaps", body: Data(configMap(name).compactText.utf8),
                                                 contentType: "application/json", token: token)
                    if response.status == 201 { acknowledged.add(name) }
                }
                done.leave()
            }.start()
        }
        done.wait()
        XCTAssertEqual(acknowledged.names.count, 200)
        let after = try XCTUnwrap(cluster.server.syncCounts)
        XCTAssertGreaterThanOrEqual(after.commits - before.commits, 200)
        // Never more syncs than commits; each acknowledged write waited for one that covered it.
        XCTAssertLessThanOrEqual(after.syncs - before.syncs, after.commits - before.commits)
        try cluster.restart()
        let listed = cluster.request("GET", "/api/v1/namespaces/default/configmaps").json["items"]?.arrayValue?.compactMap { $0.at("metadata", "name")?.stringValue } ?? []
        XCTAssertEqual(Set(listed), acknowledged.names)
    }
}

private final class Acknowledged: @unchecked Sendable {
    // Unchecked: `set` is touched only under `lock`.
    private let lock = NSLock()
    private var set = Set<String>()
    func add(_ name: String) { lock.withLock { _ = set.insert(name) } }
    var names: Set<String> { lock.withLock { set } }
}
