import ApplyTestSupport
import Foundation
import Model
import Reconciler
import TestSupport
import XCTest

/// The example tenants reconciled into a local cluster that enforces RBAC: the rendered RoleBindings
/// onto `tenantry:viewer|editor|admin` are what let members at their sessions, through kubectl with
/// tokens minted by `tenantry cluster token`.
final class TenantAccessTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws {
        XCTAssertNotNil(Kubectl.path, "kubectl is required (scripts/setup.sh installs it)")
        cluster = try TestAPIServer()
        // The reconciler runs as tenantry-admin, with RBAC enforced.
        let result = try Reconciler(client: try cluster.client()).reconcile(Reconciler.desired(try Examples.rendered()), frozen: [])
        XCTAssertTrue(result.succeeded, result.changes.failures.map(\.message).joined(separator: "\n"))
    }

    override func tearDown() { cluster = nil }

    private func kubectl(token: String, _ arguments: String..., stdin: String? = nil) -> Kubectl.Result {
        Kubectl.run(["--kubeconfig", cluster.kubeconfigPath, "--token", token, "--cache-dir", cluster.directory + "/kubectl-cache"] + arguments,
                    stdin: stdin.map { Data($0.utf8) })
    }

    /// `tenantry cluster token`, run as the command line runs it.
    private func token(user: String, groups: [String]) throws -> String {
        let outcome = CLI.run(["cluster", "token", "--dir", cluster.directory, "--user", user] + groups.flatMap { ["--group", $0] })
        XCTAssertEqual(outcome.code, 0, outcome.stderr)
        return outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private let session = """
        apiVersion: ambient.ai/v1alpha1
        kind: Session
        metadata: {name: fix-login}
        spec:
          trigger: {source: manual}
          framework: {type: claude-code}
        """

    func testAnEditorWorksInItsTenantsNamespacesAndIsForbiddenInAnothers() throws {
        // payments-engineers are editors in both payments namespaces (examples/tenants/tenants/payments.yaml).
        let editor = try token(user: "sam@acme.example", groups: ["payments-engineers"])
        let created = kubectl(token: editor, "create", "-n", "payments-prod", "-f", "-", stdin: session)
        XCTAssertEqual(created.status, 0, created.stderr)
        let listed = kubectl(token: editor, "get", "sessions", "-n", "payments-prod", "-o", "name")
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(listed.stdout, "session.ambient.ai/fix-login\n")
        XCTAssertEqual(kubectl(token: editor, "get", "sessions", "-n", "payments-staging").status, 0)

        let elsewhere = kubectl(token: editor, "get", "sessions", "-n", "docs")
        XCTAssertEqual(elsewhere.status, 1)
        XCTAssertTrue(elsewhere.stderr.contains(#"Error from server (Forbidden): sessions.ambient.ai is forbidden: User "sam@acme.example" cannot list resource "sessions" in API group "ambient.ai" in the namespace "docs""#),
                      elsewhere.stderr)
        // Nobody but the session controller writes a Session's status (kubectl reads it before patching).
        let approve = kubectl(token: editor, "patch", "session", "fix-login", "-n", "payments-prod", "--subresource=status", "--type=merge", "-p", #"{"status":{"phase":"Running"}}"#)
        XCTAssertEqual(approve.status, 1)
        XCTAssertTrue(approve.stderr.contains(#"sessions.ambient.ai "fix-login" is forbidden: User "sam@acme.example" cannot get resource "sessions/status" in API group "ambient.ai" in the namespace "payments-prod""#),
                      approve.stderr)
        XCTAssertEqual(kubectl(token: editor, "auth", "can-i", "create", "sessions", "-n", "payments-prod").stdout, "yes\n")
        XCTAssertEqual(kubectl(token: editor, "auth", "can-i", "create", "sessions", "-n", "docs").stdout, "no\n")
    }

    func testViewersReadAndAdminsApproveAndMembershipIsPerNamespace() throws {
        let editor = try token(user: "sam@acme.example", groups: ["payments-engineers"])
        XCTAssertEqual(kubectl(token: editor, "create", "-n", "payments-prod", "-f", "-", stdin: session).status, 0)

        let viewer = try token(user: "ola@acme.example", groups: ["payments-engineers-oncall"])
        XCTAssertEqual(kubectl(token: viewer, "get", "sessions", "-n", "payments-prod", "-o", "name").stdout, "session.ambient.ai/fix-login\n")
        let viewerCreate = kubectl(token: viewer, "delete", "session", "fix-login", "-n", "payments-prod")
        XCTAssertEqual(viewerCreate.status, 1)
        XCTAssertTrue(viewerCreate.stderr.contains(#"cannot delete resource "sessions" in API group "ambient.ai" in the namespace "payments-prod""#), viewerCreate.stderr)
        XCTAssertEqual(kubectl(token: viewer, "get", "sessions", "-n", "payments-staging").status, 1, "oncall views payments-prod only")

        let lead = try token(user: "lee@acme.example", groups: ["payments-leads"])
        // An admin reads the audit trail, but the status is the session controller's alone, even for an admin.
        XCTAssertEqual(kubectl(token: lead, "auth", "can-i", "get", "sessions", "--subresource=audit", "-n", "payments-prod").stdout, "yes\n")
        let statusWrite = kubectl(token: lead, "patch", "session", "fix-login", "-n", "payments-prod", "--subresource=status", "--type=merge", "-p", #"{"status":{"phase":"Running"}}"#)
        XCTAssertEqual(statusWrite.status, 1)
        XCTAssertTrue(statusWrite.stderr.contains(#"User "lee@acme.example" cannot get resource "sessions/status" in API group "ambient.ai" in the namespace "payments-prod""#),
                      statusWrite.stderr)

        // A user member: the contractor edits in staging only.
        let contractor = try token(user: "contractor.li@partner.example", groups: [])
        XCTAssertEqual(kubectl(token: contractor, "get", "sessions", "-n", "payments-staging").status, 0)
        XCTAssertEqual(kubectl(token: contractor, "get", "sessions", "-n", "payments-prod").status, 1)
    }
}
