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
    var rbac: DeployRBAC!
    var cluster: LocalClusterServer { rbac.cluster }

    override func setUpWithError() throws { rbac = try DeployRBAC() }
    override func tearDown() { rbac?.stop() }

    func kubectl(_ arguments: [String], kubeconfig: String? = nil) throws -> (code: Int32, output: String) {
        try rbac.kubectl(arguments, kubeconfig: kubeconfig)
    }

    func serviceAccountKubeconfig(editClusterRole edit: (String) -> String = { $0 }) throws -> String {
        try rbac.serviceAccountKubeconfig(editClusterRole: edit)
    }

    func forbidden(_ output: String) -> [String] { rbac.forbidden(output) }

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
