import Foundation
import Model
import XCTest

/// The installed kubectl against the local cluster over TLS with the kubeconfig it wrote.
final class KubectlTests: XCTestCase {
    var cluster: TestCluster!
    var kubectl: Kubectl!

    override func setUpWithError() throws {
        kubectl = try Kubectl.required()
        cluster = try TestCluster(tls: true)
    }

    override func tearDown() { cluster?.stop() }

    func run(_ arguments: String...) -> Kubectl.Result {
        kubectl.run(["--kubeconfig", cluster.server.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache"] + arguments)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = cluster.directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testGetApplyServerSideAndDelete() throws {
        let namespaces = run("get", "namespaces")
        XCTAssertEqual(namespaces.status, 0, namespaces.stderr)
        XCTAssertTrue(namespaces.stdout.contains("default"))

        let manifest = try write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: from-kubectl
              labels: {app: demo}
            data:
              greeting: hello
            """)
        let applied = run("apply", "--server-side", "-f", manifest)
        XCTAssertEqual(applied.status, 0, applied.stderr)
        XCTAssertEqual(applied.stdout, "configmap/from-kubectl serverside-applied\n")

        let fetched = run("get", "configmap", "from-kubectl", "-o", "jsonpath={.data.greeting}")
        XCTAssertEqual(fetched.stdout, "hello", fetched.stderr)
        let selected = run("get", "configmaps", "-l", "app=demo", "-o", "name")
        XCTAssertEqual(selected.stdout, "configmap/from-kubectl\n", selected.stderr)

        let managers = run("get", "configmap", "from-kubectl", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
        XCTAssertEqual(managers.stdout, "kubectl", managers.stderr)

        let conflicting = try write("cm2.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: from-kubectl}
            data: {greeting: bonjour}
            """)
        let conflict = run("apply", "--server-side", "--field-manager", "other", "-f", conflicting)
        XCTAssertNotEqual(conflict.status, 0)
        XCTAssertTrue(conflict.stderr.contains("conflict with \"kubectl\""), conflict.stderr)

        let deleted = run("delete", "configmap", "from-kubectl")
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertEqual(run("get", "configmap", "from-kubectl").status, 1)
    }

    func testClientSideApplyLabelAndDeleteBySelector() throws {
        let first = try write("csa.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa\ndata:\n  a: \"1\"\n")
        XCTAssertEqual(run("apply", "-f", first).stdout, "configmap/csa created\n")
        let second = try write("csa2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa\ndata:\n  a: \"2\"\n")
        let configured = run("apply", "-f", second)
        XCTAssertEqual(configured.stdout, "configmap/csa configured\n", configured.stderr)
        XCTAssertEqual(run("get", "configmap", "csa", "-o", "jsonpath={.data.a}").stdout, "2")
        XCTAssertEqual(run("label", "configmap", "csa", "tier=web").status, 0)
        let deleted = run("delete", "configmaps", "-l", "tier=web")
        XCTAssertEqual(deleted.stdout, "configmap \"csa\" deleted\n", deleted.stderr)
    }

    func testGeneratorsSendProtobufTheServerReads() {
        XCTAssertEqual(run("create", "namespace", "team-a").stdout, "namespace/team-a created\n")
        XCTAssertEqual(run("create", "configmap", "settings", "--from-literal=mode=fast", "-n", "team-a").status, 0)
        XCTAssertEqual(run("create", "secret", "generic", "key", "--from-literal=token=s3cr3t", "-n", "team-a").status, 0)
        XCTAssertEqual(run("create", "rolebinding", "rb", "--clusterrole=view", "--user=alice", "-n", "team-a").status, 0)
        XCTAssertEqual(run("get", "configmap", "settings", "-n", "team-a", "-o", "jsonpath={.data.mode}").stdout, "fast")
        XCTAssertEqual(run("get", "secret", "key", "-n", "team-a", "-o", "jsonpath={.data.token}").stdout, Data("s3cr3t".utf8).base64EncodedString())
        XCTAssertEqual(run("get", "rolebinding", "rb", "-n", "team-a", "-o", "jsonpath={.roleRef.name}/{.subjects[0].name}").stdout, "view/alice")
        XCTAssertEqual(run("get", "namespace", "team-a", "-o", "jsonpath={.status.phase}").stdout, "Active")
    }

    func testCustomResourcesThroughKubectl() throws {
        let crd = try write("crd.json", sessionDefinition().compactText)
        XCTAssertEqual(run("apply", "--server-side", "-f", crd).status, 0)
        let good = try write("s.json", session("s1", agent: "claude").compactText)
        let applied = run("apply", "--server-side", "-f", good)
        XCTAssertEqual(applied.status, 0, applied.stderr)
        XCTAssertEqual(run("get", "sessions", "-o", "name").stdout, "session.tenantry.dev/s1\n")

        let bad = try write("bad.json", session("s2", agent: "gpt").compactText)
        let refused = run("apply", "--server-side", "-f", bad)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("spec.agent: Unsupported value"), refused.stderr)
    }

    func testGetWatchSeesChanges() throws {
        let (process, output) = try kubectl.start(["--kubeconfig", cluster.server.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache",
                                                   "get", "configmaps", "--watch", "--output-watch-events", "-o", "json"])
        defer { if process.isRunning { process.terminate() } }
        let seen = Collected()
        output.fileHandleForReading.readabilityHandler = { handle in seen.append(handle.availableData) }
        defer { output.fileHandleForReading.readabilityHandler = nil }
        // Keep writing until kubectl has shown the events (its watch may open after the first writes).
        var round = 0
        while round < 50, !seen.text.contains("\"DELETED\"") {
            let manifest = try write("w\(round).json", configMap("watched-\(round)").compactText)
            XCTAssertEqual(run("create", "-f", manifest).status, 0)
            XCTAssertEqual(run("delete", "configmap", "watched-\(round)", "--wait=false").status, 0)
            round += 1
        }
        XCTAssertTrue(seen.text.contains("\"type\":\"ADDED\""), seen.text)
        XCTAssertTrue(seen.text.contains("\"type\":\"DELETED\""), seen.text)
        XCTAssertTrue(seen.text.contains("\"name\":\"watched-"), seen.text)
    }
}

private final class Collected: @unchecked Sendable {
    // Unchecked: `data` is touched only under `lock`.
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.withLock { data.append(more) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
