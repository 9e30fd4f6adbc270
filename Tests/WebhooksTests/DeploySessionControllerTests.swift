import Apply
import Foundation
import HTTPClient
import LocalCluster
import Model
import TestSupport
import Webhooks
import XCTest

/// The session controller and the receiver as deploy/'s ServiceAccount (RBAC enforced): `serve --controller
/// --leader-elect --admission cluster --ack-after cluster`, as the controller Deployment runs it, takes a signed
/// delivery to a Session that runs to Completed, holding the Lease `tenantry-sessions` in tenantry-system, with no
/// 403 on the way. Without `create` on Jobs the Session never runs and the log names the permission missing.
extension DeployPrivilegeTests {
    static let apiKey = "deploy-generic-key-aabbccddeeff0011223344556"

    /// One tenant whose sessions run the platform's `script` runner on this machine.
    func scriptTenantRepo() throws -> TempRepo {
        let repo = try TempRepo()
        try repo.write("tenants/acme.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: acme
            namespaces:
              - name: acme
                apiKeys:
                  generic: \(TestSecrets.hash(Self.apiKey))
            policy:
              models: {allowed: [claude-sonnet-4-5]}
              budget: {monthly: "100.00"}
              tools: {allowed: [git]}
              runner: {type: script, version: "0.1.0"}

            """)
        return repo
    }

    /// Reconciles the repo and runs one delivery through `serve --controller` as the ServiceAccount; the Session's
    /// final phase (nil if it had none when `settle` said stop), the serve log, the admin's client.
    func runDelivery(kubeconfig: String, settle: @escaping (String?) -> Bool) throws -> (phase: String?, log: String, admin: KubeClient) {
        let repo = try scriptTenantRepo()
        let reconciled = CLI.run(["reconcile", repo.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(forbidden(reconciled.stdout + reconciled.stderr), [])
        XCTAssertEqual(reconciled.code, 0, reconciled.stdout + reconciled.stderr)
        // The model credentials Secret is the platform's, created by an administrator (Tenantry never reads Secrets).
        XCTAssertEqual(try kubectl(["-n", "acme", "create", "secret", "generic", "model-credentials", "--from-literal=api-key=unused"]).code, 0)
        let log = directory + "/serve.log"
        let serve = try ServeProcess(arguments: ["serve", repo.path, "--controller", "--leader-elect", "--leader-elect-namespace", "tenantry-system",
                                                 "--admission", "cluster", "--ack-after", "cluster", "--kubeconfig", kubeconfig, "--port", "0",
                                                 "--journal", directory + "/journal.db", "--refresh-interval", "1"],
                                     environment: ["POD_NAME": "tenantry-controller-0"], stderrPath: log)
        defer { _ = serve.terminate() }
        let admin = KubeClient(config: try Kubeconfig.load(paths: [cluster.kubeconfigPath]).resolve())
        let lease = ObjectReference(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "tenantry-system", name: "tenantry-sessions")
        eventually("the session controller holds its Lease") {
            (try? admin.get(lease))??["spec"]?["holderIdentity"]?.stringValue == "tenantry-controller-0"
        }
        let body = JSON.object(["description": "deploy privilege check"]).compactBytes
        let answer = try HTTPClient().send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(serve.port)/api/v1/webhooks/generic",
                                                       headers: [("Content-Type", "application/json"), ("X-API-Key", Self.apiKey),
                                                                 ("Idempotency-Key", "deploy-1")], body: body))
        XCTAssertEqual(answer.status, 202, String(decoding: answer.body, as: UTF8.self))
        let name = WebhookService.sessionName(source: .generic, deliveryID: "deploy-1")
        let session = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: "acme", name: name)
        var phase: String?
        eventually("the Session settles") {
            phase = (try? admin.get(session))??["status"]?["phase"]?.stringValue
            return settle(phase) || ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("forbidden")
        }
        XCTAssertEqual(serve.terminate(), 0)
        return (phase, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", admin)
    }

    func testTheSessionControllerRunsADeliveryToCompletedAsTheDeployServiceAccount() throws {
        let kubeconfig = try serviceAccountKubeconfig()
        let (phase, log, admin) = try runDelivery(kubeconfig: kubeconfig) { ["Completed", "Failed", "Stopped"].contains($0 ?? "") }
        XCTAssertEqual(forbidden(log), [], "the deploy ClusterRole/Role lack these permissions")
        XCTAssertEqual(phase, "Completed", log)
        let policy = try XCTUnwrap(try admin.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: "acme",
                                                                 name: NamespacePolicy.objectName)))
        XCTAssertEqual(policy["status"]?["admission"]?["live"]?.arrayValue?.count, 0, "the reservation was settled (namespacepolicies/status)")
        XCTAssertNotEqual(policy["status"]?["budget"]?["spent"]?.stringValue, "0.00")
        XCTAssertEqual(try admin.list(apiVersion: "batch/v1", kind: "Job", namespace: "acme").count, 1)
        // SIGTERM released the Lease.
        let lease = try admin.get(ObjectReference(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "tenantry-system", name: "tenantry-sessions"))
        XCTAssertEqual(lease?["spec"]?["holderIdentity"]?.stringValue ?? "", "")
    }

    /// The test can fail: a role without `create` on Jobs leaves the Session Pending, and the log says what is missing.
    func testWithoutCreateOnJobsTheControllerNamesThePermissionMissing() throws {
        let kubeconfig = try serviceAccountKubeconfig { text in
            text.replacingOccurrences(of: "resources: [jobs]\n    verbs: [get, list, watch, create, delete]", with: "resources: [jobs]\n    verbs: [get, list, watch, delete]")
        }
        let (phase, log, _) = try runDelivery(kubeconfig: kubeconfig) { ["Running", "Completed", "Failed", "Stopped"].contains($0 ?? "") }
        XCTAssertNotEqual(phase, "Completed")
        XCTAssertTrue(log.contains(#"User "system:serviceaccount:tenantry-system:tenantry" cannot create resource "jobs" in API group "batch" in the namespace "acme""#), log)
    }
}
