import Apply
import Foundation
import Model
import Support
import TestSupport
import Webhooks
import XCTest

/// One status writer (platform-design.md): a delivery to a namespace whose policy requires approval, taken by
/// `serve --controller` as deploy/'s ServiceAccount, gets `Approved=False, AwaitingApproval` from the session
/// controller, and the only field manager that ever wrote the Session's status is the controller's (the receiver
/// used to merge-patch the whole `conditions` list right after creating it).
extension DeploySessionControllerTests {
    func testAReceiversSessionGetsItsApprovalConditionFromTheControllerOnly() throws {
        let kubeconfig = try rbac.serviceAccountKubeconfig()
        let repo = try scriptTenantRepo(policy: "  approval:\n    required: true\n    approvers: [leads]\n")
        let name = WebhookService.sessionName(source: .generic, deliveryID: "deploy-1")
        let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: "acme", name: name)
        let admin = KubeClient(config: try Kubeconfig.load(paths: [cluster.kubeconfigPath]).resolve())
        func approved() -> JSON? {
            (try? admin.get(reference))??["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Approved" }
        }
        let (phase, log, _) = try runDelivery(kubeconfig: kubeconfig, repo: repo) { _ in approved()?["reason"] == "AwaitingApproval" }
        XCTAssertEqual(rbac.forbidden(log), [], "the deploy ClusterRole/Role lack these permissions")
        XCTAssertEqual(phase, "Pending", log)
        let condition = try XCTUnwrap(approved(), log)
        XCTAssertEqual(condition["status"], "False")
        XCTAssertEqual(condition["reason"], "AwaitingApproval")
        let session = try XCTUnwrap(try admin.get(reference))
        XCTAssertEqual(session["metadata"]?["labels"]?["ambient.ai/approval"], "pending")
        let statusManagers = Set((session["metadata"]?["managedFields"]?.arrayValue ?? [])
            .filter { $0["subresource"] == "status" }.compactMap { $0["manager"]?.stringValue })
        XCTAssertEqual(statusManagers, ["tenantry-controller"], "\(session["metadata"]?["managedFields"] ?? [])")
        XCTAssertEqual(try admin.list(apiVersion: "batch/v1", kind: "Job", namespace: "acme").count, 0, "no Job before an approval")
    }
}
