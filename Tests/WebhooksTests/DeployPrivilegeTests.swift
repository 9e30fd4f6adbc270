import Commands
import Foundation
import LocalCluster
import Model
import TestSupport
import Webhooks
import XCTest

/// Least privilege, proven: `deploy/`'s ServiceAccount, ClusterRole and Role applied to a local cluster that enforces
/// RBAC, a token minted for the ServiceAccount with the TokenRequest API (`kubectl create token`), and Tenantry run
/// with nothing else: the reconciler applies and prunes the example tenants, the webhook receiver creates Sessions
/// (and writes no status), and a call outside the role is refused with 403. A permission the role lacks
/// fails the test with the API server's own message, which names it.
final class DeployPrivilegeTests: XCTestCase {
    static let deploy = PackagePaths.root.appendingPathComponent("deploy").path
    static let rbacFiles = ["namespace", "serviceaccount", "clusterrole", "clusterrolebinding", "role", "rolebinding"]
    var cluster: LocalClusterServer!
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-rbac-\(UUID().uuidString)").path
        cluster = try LocalClusterServer.start(directory: directory)
    }

    override func tearDown() {
        cluster?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func kubectl(_ arguments: [String], kubeconfig: String? = nil) throws -> (code: Int32, output: String) {
        try Tool.run("kubectl", ["--kubeconfig", kubeconfig ?? cluster.kubeconfigPath, "--cache-dir", directory + "/kubectl-cache"] + arguments)
    }

    /// Applies deploy/'s RBAC as the admin (with `edit` applied to the ClusterRole's text first) and returns a
    /// kubeconfig whose only credential is a fresh token of the ServiceAccount tenantry-system/tenantry.
    func serviceAccountKubeconfig(editClusterRole edit: (String) -> String = { $0 }) throws -> String {
        for name in Self.rbacFiles {
            var text = try String(contentsOfFile: "\(Self.deploy)/\(name).yaml", encoding: .utf8)
            if name == "clusterrole" { text = edit(text) }
            let file = "\(directory)/\(name).yaml"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let applied = try kubectl(["apply", "-f", file])
            XCTAssertEqual(applied.code, 0, applied.output)
        }
        let minted = try kubectl(["create", "token", "tenantry", "-n", "tenantry-system", "--duration", "1h"])
        XCTAssertEqual(minted.code, 0, minted.output)
        let token = minted.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let path = "\(directory)/tenantry-sa.kubeconfig"
        try FileManager.default.copyItem(atPath: cluster.kubeconfigPath, toPath: path)
        XCTAssertEqual(try kubectl(["config", "set-credentials", "tenantry-sa", "--token=" + token], kubeconfig: path).code, 0)
        XCTAssertEqual(try kubectl(["config", "set-context", "--current", "--user=tenantry-sa"], kubeconfig: path).code, 0)
        let whoami = try kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], kubeconfig: path)
        XCTAssertEqual(whoami.output, "system:serviceaccount:tenantry-system:tenantry", "the kubeconfig must carry the ServiceAccount's token alone")
        return path
    }

    /// Every 403 the API server sent, as it worded it ("User … cannot VERB resource …"): the permission missing.
    func forbidden(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.contains("forbidden") || $0.contains("Forbidden") || $0.contains("cannot ") }
    }

    func testTheReconcilerAndTheReceiverWorkAsTheDeployServiceAccountAndNothingMore() throws {
        let kubeconfig = try serviceAccountKubeconfig()

        // The reconciler: CRDs, tenantry:* ClusterRoles, every tenant object, inventories in tenantry-system.
        let first = CLI.run(["reconcile", PackagePaths.examples.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(forbidden(first.stdout + first.stderr), [], "the deploy ClusterRole/Role lack these permissions")
        XCTAssertEqual(first.code, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("ClusterRole/tenantry:approver created"), first.stdout)
        XCTAssertTrue(first.stdout.contains("RoleBinding/payments-prod/tenantry-admins created"), first.stdout)
        let again = CLI.run(["reconcile", PackagePaths.examples.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(again.code, 0, again.stdout + again.stderr)
        XCTAssertFalse(again.stdout.contains(" created"), "a second round changes nothing: \(again.stdout)")

        // A tenant removed from git is pruned with its Namespaces (list, get, delete), its inventory ConfigMap forgotten.
        let repo = try TempRepo()
        for file in ["payments", "support"] {
            try repo.write("tenants/\(file).yaml", try String(contentsOf: PackagePaths.examples.appendingPathComponent("tenants/\(file).yaml"), encoding: .utf8))
        }
        let pruned = CLI.run(["reconcile", repo.path, "--kubeconfig", kubeconfig, "--allow-mass-prune", "--prune-namespaces"])
        XCTAssertEqual(forbidden(pruned.stdout + pruned.stderr), [], "the deploy ClusterRole/Role lack these permissions")
        XCTAssertEqual(pruned.code, 0, pruned.stdout + pruned.stderr)
        XCTAssertTrue(pruned.stdout.contains("deleted"), pruned.stdout)
        let inventories = try kubectl(["get", "configmaps", "-n", "tenantry-system", "-o", "name"])
        XCTAssertFalse(inventories.output.contains("inventory-docs"), inventories.output)
        XCTAssertTrue(inventories.output.contains("inventory-payments"), inventories.output)

        // The receiver: Sessions created (get, patch), no status written (the controller's), live ones counted (list).
        let admin = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath))
        for namespace in WebhookClusterTests.namespaces {
            try admin.applyClusterObject(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            XCTAssertTrue(admin.waitUntilServed(namespace: namespace))
        }
        let writer = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: kubeconfig))
        let fixture = try WebhookFixture(writer: writer)
        let github = try fixture.github("issues", body: try labeledIssue(7), delivery: "deploy-sa-1")
        XCTAssertEqual(github.status, 202, github.text)
        let jira = try fixture.jira(body: WebhookDeliveryTests.jiraBody(changelog: [["field": "labels", "fromString": "", "toString": "agent"]]),
                                    delivery: "deploy-sa-2")
        XCTAssertEqual(jira.status, 202, jira.text)
        let names = [github.json["sessionId"]?.stringValue ?? "", WebhookService.sessionName(source: .jira, deliveryID: "deploy-sa-2")]
        fixture.eventually("both Sessions exist") { names.allSatisfy { fixture.server.service.journal.entryState(session: $0) == .done } }
        XCTAssertEqual(fixture.logs.all.filter { $0.contains("forbidden") || $0.contains("403") }, [])
        let approval = try XCTUnwrap(try admin.allSessions(namespace: "support-agents").first { $0["metadata"]?["name"]?.stringValue == names[1] })
        XCTAssertNil(approval["status"], "the receiver writes no status: \(approval)")
        XCTAssertEqual(try writer.liveSessions(namespace: "hello-prod"), [names[0]])

        // Outside the role: 403, worded as kube-apiserver words it.
        let secrets = try kubectl(["get", "secrets", "--all-namespaces"], kubeconfig: kubeconfig)
        XCTAssertNotEqual(secrets.code, 0)
        XCTAssertTrue(secrets.output.contains(#"Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:tenantry-system:tenantry" cannot list resource "secrets" in API group "" at the cluster scope"#), secrets.output)
        for (verb, resource) in [("impersonate", "users"), ("create", "clusterrolebindings"), ("delete", "sessions.ambient.ai"), ("get", "secrets")] {
            let can = try kubectl(["auth", "can-i", verb, resource, "--all-namespaces"], kubeconfig: kubeconfig)
            XCTAssertEqual(can.output.trimmingCharacters(in: .whitespacesAndNewlines), "no", "\(verb) \(resource)")
        }
    }

    /// The test can fail: without `escalate`/`bind` on the tenantry:* ClusterRoles the reconcile is refused, and
    /// the message names exactly the permissions the role would have had to hold.
    func testARoleWithoutEscalateAndBindFailsAndTheRefusalNamesWhatIsMissing() throws {
        let kubeconfig = try serviceAccountKubeconfig { text in
            text.replacingOccurrences(of: "verbs: [get, create, patch, delete, escalate, bind]", with: "verbs: [get, create, patch, delete]")
        }
        let result = CLI.run(["reconcile", PackagePaths.examples.path, "--kubeconfig", kubeconfig])
        XCTAssertNotEqual(result.code, 0)
        let output = result.stdout + result.stderr
        XCTAssertTrue(output.contains(#"clusterroles.rbac.authorization.k8s.io "tenantry:approver" is forbidden: user "system:serviceaccount:tenantry-system:tenantry""#), output)
        XCTAssertTrue(output.contains("is attempting to grant RBAC permissions not currently held"), output)
        XCTAssertTrue(output.contains("approve"), "the approver role's verb is named: \(output)")
    }
}
