import Foundation
import Model
import XCTest

/// The local node through the API: restarts, the running-Pod cap, the ServiceAccount directory without a token source.
final class KubeletTests: XCTestCase {
    var cluster: TestCluster!

    override func tearDown() { cluster?.stop() }

    private func job(_ name: String, _ command: [String], backoffLimit: Int = 6) -> JSON {
        ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": .string(name)],
         "spec": ["backoffLimit": .int(backoffLimit),
                  "template": ["spec": ["restartPolicy": "Never", "containers": [["name": "main", "image": "x", "command": .strings(command)]]]]]]
    }

    private func pods(of job: String) -> [JSON] {
        cluster.request("GET", "/api/v1/namespaces/default/pods?labelSelector=job-name%3D\(job)").json["items"]?.arrayValue ?? []
    }

    private func jobStatus(_ name: String) -> JSON { cluster.request("GET", "/apis/batch/v1/namespaces/default/jobs/\(name)").json["status"] ?? .null }

    private func pid(_ pod: JSON) -> pid_t? {
        guard let id = pod.at("status", "containerStatuses")?.arrayValue?.first?.at("containerID")?.stringValue else { return nil }
        return pid_t(id.dropFirst("tenantry-host://".count))
    }

    func testARestartMarksRunningPodsNodeLostAndTheJobCarriesOn() throws {
        cluster = try TestCluster { $0.jobBackoffSeconds = 0.1 }
        XCTAssertEqual(cluster.request("POST", "/apis/batch/v1/namespaces/default/jobs", json: job("survivor", ["sleep", "300"], backoffLimit: 1)).status, 201)
        var running: pid_t?
        XCTAssertTrue(eventually { running = self.pods(of: "survivor").first.flatMap(self.pid); return running != nil })
        try cluster.restart()
        if let running { XCTAssertTrue(processGroup(running).isEmpty, "the stopped cluster took its processes with it") }
        XCTAssertTrue(eventually { self.pods(of: "survivor").contains { $0.at("status", "reason") == "NodeLost" && $0.at("status", "phase") == "Failed" } })
        XCTAssertTrue(eventually { self.jobStatus("survivor")["failed"] == 1 && self.pods(of: "survivor").count == 2 }, "the Job replaces the lost Pod")
        XCTAssertTrue(eventually { self.pods(of: "survivor").contains { $0.at("status", "phase") == "Running" } })
    }

    func testPodsBeyondTheCapWaitPendingUntilASlotFrees() throws {
        cluster = try TestCluster { $0.maxRunningPods = 1 }
        XCTAssertEqual(cluster.request("POST", "/apis/batch/v1/namespaces/default/jobs", json: job("first", ["sleep", "300"])).status, 201)
        XCTAssertTrue(eventually { self.pods(of: "first").first?.at("status", "phase") == "Running" })
        XCTAssertEqual(cluster.request("POST", "/apis/batch/v1/namespaces/default/jobs", json: job("second", ["true"])).status, 201)
        XCTAssertTrue(eventually {
            let scheduled = self.pods(of: "second").first?.at("status", "conditions")?.arrayValue?.first { $0["type"] == "PodScheduled" }
            return scheduled?["reason"] == "Unschedulable" && scheduled?["message"]?.stringValue?.contains("Too many pods") == true
        })
        XCTAssertEqual(pods(of: "second").first?.at("status", "phase"), "Pending")
        XCTAssertEqual(cluster.request("DELETE", "/apis/batch/v1/namespaces/default/jobs/first?propagationPolicy=Background&gracePeriodSeconds=0").status, 200)
        XCTAssertTrue(eventually { self.jobStatus("second")["succeeded"] == 1 })
    }

    func testWithoutATokenSourceTheTokenFileIsLeftOut() throws {
        cluster = try TestCluster()
        let command = ["sh", "-c", "ls \"$TENANTRY_SERVICEACCOUNT_DIR\"; cat \"$TENANTRY_SERVICEACCOUNT_DIR/namespace\""]
        XCTAssertEqual(cluster.request("POST", "/apis/batch/v1/namespaces/default/jobs", json: job("lister", command)).status, 201)
        XCTAssertTrue(eventually { self.jobStatus("lister")["succeeded"] == 1 })
        let pod = pods(of: "lister").first?.at("metadata", "name")?.stringValue ?? ""
        let logs = cluster.request("GET", "/api/v1/namespaces/default/pods/\(pod)/log")
        XCTAssertEqual(logs.text, "namespace\ndefault\n", "no token (no issuer wired) and no ca.crt (plain HTTP cluster)")
    }

    func testContainerNamesThatAreNotLabelsAreRefused() throws {
        cluster = try TestCluster()
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "sneaky"],
                         "spec": ["containers": [["name": "../../escape", "image": "x", "command": ["true"]]]]]
        let refused = cluster.request("POST", "/api/v1/namespaces/default/pods", json: pod)
        XCTAssertEqual(refused.status, 422)
        XCTAssertEqual(refused.json.at("details", "causes")?.arrayValue?.first?["field"], "spec.containers[0].name")
    }

    func testLogsOfAWaitingContainerAreRefusedAsKubernetesDoes() throws {
        cluster = try TestCluster()
        let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "elsewhere"],
                         "spec": ["nodeName": "other-node", "containers": [["name": "main", "image": "x", "command": ["true"]]]]]
        XCTAssertEqual(cluster.request("POST", "/api/v1/namespaces/default/pods", json: pod).status, 201)
        let logs = cluster.request("GET", "/api/v1/namespaces/default/pods/elsewhere/log")
        XCTAssertEqual(logs.status, 400)
        XCTAssertEqual(logs.json["message"], "container \"main\" in pod \"elsewhere\" is waiting to start: ContainerCreating")
        XCTAssertEqual(cluster.request("GET", "/api/v1/namespaces/default/pods/elsewhere/log?container=nope").json["message"],
                       "container nope is not valid for pod elsewhere")
    }
}
