import Foundation
import Model
import XCTest

/// ResourceQuota admission on Pods and Jobs, through the installed kubectl: refused creates are 403 Forbidden in
/// kube-apiserver's words, and Pods that ended take nothing.
final class QuotaKubectlTests: XCTestCase {
    var cluster: TestCluster!
    var kubectl: Kubectl!

    override func setUpWithError() throws {
        guard let found = Kubectl.find() else { throw XCTSkip("kubectl is not installed") }
        kubectl = found
        cluster = try TestCluster(tls: true)
    }

    override func tearDown() { cluster?.stop() }

    @discardableResult
    private func run(_ arguments: String...) -> Kubectl.Result {
        kubectl.run(["--kubeconfig", cluster.server.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache"] + arguments)
    }

    private func create(_ yaml: String) -> Kubectl.Result {
        let path = cluster.directory + "/manifest-\(UUID().uuidString).yaml"
        try? yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return run("create", "-f", path)
    }

    private func pod(_ name: String, cpu: String, node: String? = nil) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: default}
        spec:
          \(node.map { "nodeName: \($0)" } ?? "")
          restartPolicy: Never
          containers:
          - name: main
            image: busybox
            command: ["/bin/sh", "-c", "exit 0"]
            resources: {requests: {cpu: \(cpu)}}
        """
    }

    func testPodsAndJobsPastTheQuotaAreForbiddenAndEndedPodsTakeNothing() throws {
        XCTAssertEqual(create("""
        apiVersion: v1
        kind: ResourceQuota
        metadata: {name: compute, namespace: default}
        spec: {hard: {pods: "1", requests.cpu: "1", count/jobs.batch: "0"}}
        """).status, 0)
        // Bound to another node, so it stays Pending here, and counts.
        let held = create(pod("held", cpu: "500m", node: "other-node"))
        XCTAssertEqual(held.status, 0, held.stderr)
        let refused = create(pod("second", cpu: "600m"))
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains(#"Error from server (Forbidden): error when creating"#), refused.stderr)
        XCTAssertTrue(refused.stderr.contains(#"pods "second" is forbidden: exceeded quota: compute, requested: pods=1,requests.cpu=600m, used: pods=1,requests.cpu=500m, limited: pods=1,requests.cpu=1"#),
                      refused.stderr)
        XCTAssertEqual(run("get", "pod", "second").status, 1, "nothing was stored")

        let job = create("""
        apiVersion: batch/v1
        kind: Job
        metadata: {name: work, namespace: default}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: main, image: busybox, command: ["/bin/sh", "-c", "exit 0"]}]
        """)
        XCTAssertEqual(job.status, 1)
        XCTAssertTrue(job.stderr.contains(#"jobs.batch "work" is forbidden: exceeded quota: compute, requested: count/jobs.batch=1, used: count/jobs.batch=0, limited: count/jobs.batch=0"#),
                      job.stderr)

        XCTAssertEqual(run("delete", "pod", "held", "--grace-period=0", "--force").status, 0)
        let second = create(pod("second", cpu: "600m"))
        XCTAssertEqual(second.status, 0, second.stderr)
        let deadline = Date().addingTimeInterval(60)
        while run("get", "pod", "second", "-o", "jsonpath={.status.phase}").stdout != "Succeeded", Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(run("get", "pod", "second", "-o", "jsonpath={.status.phase}").stdout, "Succeeded")
        // The ended Pod no longer counts: a third one fits.
        let third = create(pod("third", cpu: "1"))
        XCTAssertEqual(third.status, 0, third.stderr)
    }
}
