import Apply
import Foundation
import HTTPClient
import HTTPServer
import LocalCluster
import Model
import Support
import TestSupport
import Webhooks
import XCTest

/// The session controller and the receiver as deploy/'s ServiceAccount (RBAC enforced): `serve --controller
/// --leader-elect --admission cluster --ack-after cluster`, as the controller Deployment runs it, takes a signed
/// delivery to a Session that runs to Completed, holding the Lease `tenantry-sessions` in tenantry-system, with no
/// 403 on the way. Without `create` on Jobs the Session never runs and the log names the permission missing.
final class DeploySessionControllerTests: XCTestCase {
    static let apiKey = "deploy-generic-key-aabbccddeeff0011223344556"
    var rbac: DeployRBAC!
    var cluster: LocalClusterServer { rbac.cluster }
    var directory: String { rbac.directory }

    override func setUpWithError() throws { rbac = try DeployRBAC() }
    override func tearDown() { rbac?.stop() }

    /// One tenant whose sessions run the platform's `script` runner on this machine; `policy` is appended to its
    /// policy (two-space indented), `platform` to platform.yaml.
    func scriptTenantRepo(policy: String = "", platform: String = "") throws -> TempRepo {
        let repo = try TempRepo(platform: TempRepo.platform + platform)
        try writeScriptTenant(repo, policy: policy)
        return repo
    }

    func writeScriptTenant(_ repo: TempRepo, policy: String) throws {
        try repo.write("tenants/acme.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: acme
            namespaces:
              - name: acme
                apiKeys:
                  generic: sha256:\(Crypto.sha256Hex(Array(Self.apiKey.utf8)))
            policy:
              models: {allowed: [claude-sonnet-4-5]}
              budget: {monthly: "100.00"}
              tools: {allowed: [git]}
              runner: {type: script, version: "0.1.0"}

            """ + policy)
    }

    /// Reconciles the repo and runs one delivery through `serve --controller` as the ServiceAccount; the Session's
    /// final phase (nil if it had none when `settle` said stop), the serve log, the admin's client.
    /// `arguments` are added to serve's; `until` is waited for before serve is stopped.
    func runDelivery(kubeconfig: String, repo given: TempRepo? = nil, arguments: [String] = [], until: () -> Bool = { true },
                     settle: @escaping (String?) -> Bool) throws -> (phase: String?, log: String, admin: KubeClient) {
        let repo = try given ?? scriptTenantRepo()
        let reconciled = CLI.run(["reconcile", repo.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(rbac.forbidden(reconciled.stdout + reconciled.stderr), [])
        XCTAssertEqual(reconciled.code, 0, reconciled.stdout + reconciled.stderr)
        // The model credentials Secret is the platform's, created by an administrator (Tenantry never reads Secrets).
        XCTAssertEqual(try rbac.kubectl(["-n", "acme", "create", "secret", "generic", "model-credentials", "--from-literal=api-key=unused"]).code, 0)
        let log = directory + "/serve.log"
        let serve = try ServeProcess(arguments: ["serve", repo.path, "--controller", "--leader-elect", "--leader-elect-namespace", "tenantry-system",
                                                 "--admission", "cluster", "--ack-after", "cluster", "--kubeconfig", kubeconfig, "--port", "0",
                                                 "--journal", directory + "/journal.db", "--refresh-interval", "1"] + arguments,
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
        eventually("serve has done what the test waits for", until)
        XCTAssertEqual(serve.terminate(), 0)
        return (phase, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", admin)
    }

    func testTheSessionControllerRunsADeliveryToCompletedAsTheDeployServiceAccount() throws {
        let kubeconfig = try rbac.serviceAccountKubeconfig()
        let (phase, log, admin) = try runDelivery(kubeconfig: kubeconfig) { ["Completed", "Failed", "Stopped"].contains($0 ?? "") }
        XCTAssertEqual(rbac.forbidden(log), [], "the deploy ClusterRole/Role lack these permissions")
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
        let kubeconfig = try rbac.serviceAccountKubeconfig { text in
            text.replacingOccurrences(of: "resources: [jobs]\n    verbs: [get, list, watch, create, delete]", with: "resources: [jobs]\n    verbs: [get, list, watch, delete]")
        }
        let (phase, log, _) = try runDelivery(kubeconfig: kubeconfig) { ["Running", "Completed", "Failed", "Stopped"].contains($0 ?? "") }
        XCTAssertNotEqual(phase, "Completed")
        XCTAssertTrue(log.contains(#"User "system:serviceaccount:tenantry-system:tenantry" cannot create resource "jobs" in API group "batch" in the namespace "acme""#), log)
    }
}

/// The whole loop as deploy/'s ServiceAccount, with a signed notification: the reconciler renders the tenant's Role
/// for its signing Secret; the controller (with the receiver, `--admission cluster --ack-after cluster`) runs a
/// delivery to Completed and signs the callback to a local TLS receiver with that Secret, which it may read by name
/// and no other; the Role goes when the policy drops the Secret.
extension DeploySessionControllerTests {
    /// Records every request on 127.0.0.1 over TLS and answers 200.
    final class CallbackReceiver: @unchecked Sendable {
        // Unchecked: `recorded` is touched under `lock`.
        private let lock = NSLock()
        private var recorded: [Request] = []
        private var server: HTTPServer?
        let identity: TLSIdentity

        init() throws {
            identity = try TLSIdentity.selfSigned(commonName: "callback-receiver", ipAddresses: ["127.0.0.1"], dnsNames: [], days: 1)
            var configuration = HTTPServer.Configuration()
            configuration.tls = identity
            server = try HTTPServer(configuration) { [unowned self] request in
                self.lock.withLock { self.recorded.append(request) }
                return Response(status: 200)
            }
        }

        var port: UInt16 { server?.port ?? 0 }
        var requests: [Request] { lock.withLock { recorded } }
        func stop() { server?.stop() }
    }

    func testTheWholeLoopWithASignedCallbackAsTheDeployServiceAccount() throws {
        let kubeconfig = try rbac.serviceAccountKubeconfig()
        let receiver = try CallbackReceiver()
        defer { receiver.stop() }
        let ca = directory + "/callback-ca.pem"
        try receiver.identity.certificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
        let notifications = """
              notifications:
                signingSecret: acme-signing
                webhooks:
                  - url: https://127.0.0.1:\(receiver.port)/hooks/tenantry
                    events: [session.completed]

            """
        let repo = try scriptTenantRepo(policy: notifications, platform: "\nnotifications:\n  allowCIDRs: [127.0.0.1/32]\n")
        let reconciled = CLI.run(["reconcile", repo.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(rbac.forbidden(reconciled.stdout + reconciled.stderr), [], "the deploy ClusterRole/Role lack these permissions")
        XCTAssertEqual(reconciled.code, 0, reconciled.stdout + reconciled.stderr)
        XCTAssertTrue(reconciled.stdout.contains("Role/acme/tenantry-signing-secret created"), reconciled.stdout)
        XCTAssertTrue(reconciled.stdout.contains("RoleBinding/acme/tenantry-signing-secret created"), reconciled.stdout)

        // The administrator creates the signing Secret (Tenantry never writes Secrets), and another one beside it.
        let key = "deploy-signing-key-0123456789"
        XCTAssertEqual(try rbac.kubectl(["-n", "acme", "create", "secret", "generic", "acme-signing", "--from-literal=secret=" + key]).code, 0)
        XCTAssertEqual(try rbac.kubectl(["-n", "acme", "create", "secret", "generic", "acme-other", "--from-literal=secret=not-for-tenantry"]).code, 0)
        let account = #"User "system:serviceaccount:tenantry-system:tenantry""#
        let named = try rbac.kubectl(["-n", "acme", "get", "secret", "acme-signing", "-o", "jsonpath={.metadata.name}"], kubeconfig: kubeconfig)
        XCTAssertEqual(named.code, 0, named.output)
        XCTAssertEqual(named.output, "acme-signing")
        let other = try rbac.kubectl(["-n", "acme", "get", "secret", "acme-other"], kubeconfig: kubeconfig)
        XCTAssertNotEqual(other.code, 0)
        XCTAssertTrue(other.output.contains(#"Error from server (Forbidden): secrets "acme-other" is forbidden: \#(account) cannot get resource "secrets" in API group "" in the namespace "acme""#), other.output)
        let listed = try rbac.kubectl(["-n", "acme", "get", "secrets"], kubeconfig: kubeconfig)
        XCTAssertNotEqual(listed.code, 0)
        XCTAssertTrue(listed.output.contains(#"Error from server (Forbidden): secrets is forbidden: \#(account) cannot list resource "secrets" in API group "" in the namespace "acme""#), listed.output)

        // The loop: a delivery to Completed, and its callback signed with the Secret's value.
        func completedCallbacks() -> [Request] { receiver.requests.filter { $0.headers["x-tenantry-event"] == "session.completed" } }
        let (phase, log, _) = try runDelivery(kubeconfig: kubeconfig, repo: repo,
                                              arguments: ["--notify-outbox", directory + "/outbox.db", "--audit-db", directory + "/audit.db",
                                                          "--notify-ca-file", ca],
                                              until: { !completedCallbacks().isEmpty }) { ["Completed", "Failed", "Stopped"].contains($0 ?? "") }
        XCTAssertEqual(rbac.forbidden(log), [], "the deploy ClusterRole/Role lack these permissions")
        XCTAssertEqual(phase, "Completed", log)
        let callbacks = completedCallbacks()
        XCTAssertEqual(callbacks.count, 1, log)
        let callback = try XCTUnwrap(callbacks.first)
        XCTAssertEqual(callback.path, "/hooks/tenantry")
        XCTAssertEqual(callback.headers["x-tenantry-signature-256"],
                       "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array(key.utf8), message: Array(callback.body))), "signed with acme-signing's value")
        XCTAssertEqual(try JSON(parsing: callback.body)["phase"]?.stringValue, "Completed")
        XCTAssertFalse(log.contains(key), "the signing secret is never logged")

        // The policy drops the Secret: the Role and its binding are pruned, and the Secret is no longer readable.
        try writeScriptTenant(repo, policy: "")
        let pruned = CLI.run(["reconcile", repo.path, "--kubeconfig", kubeconfig])
        XCTAssertEqual(rbac.forbidden(pruned.stdout + pruned.stderr), [])
        XCTAssertEqual(pruned.code, 0, pruned.stdout + pruned.stderr)
        XCTAssertTrue(pruned.stdout.contains("Role/acme/tenantry-signing-secret deleted"), pruned.stdout)
        XCTAssertTrue(pruned.stdout.contains("RoleBinding/acme/tenantry-signing-secret deleted"), pruned.stdout)
        let gone = try rbac.kubectl(["-n", "acme", "get", "secret", "acme-signing"], kubeconfig: kubeconfig)
        XCTAssertNotEqual(gone.code, 0)
        XCTAssertTrue(gone.output.contains(#"secrets "acme-signing" is forbidden"#), gone.output)
    }

    /// The test can fail: without `escalate`/`bind` on the Role tenantry-signing-secret the reconciler may not write a
    /// Role granting a Secret it cannot read itself, and the refusal names that exact rule.
    func testWithoutEscalateOnTheSigningRoleTheRefusalNamesTheSecretRule() throws {
        let kubeconfig = try rbac.serviceAccountKubeconfig { text in
            text.replacingOccurrences(of: "resourceNames: [tenantry-signing-secret]\n    verbs: [escalate, bind]", with: "resourceNames: [tenantry-signing-secret]\n    verbs: [get]")
        }
        let repo = try scriptTenantRepo(policy: "  notifications:\n    signingSecret: acme-signing\n")
        let result = CLI.run(["reconcile", repo.path, "--kubeconfig", kubeconfig])
        XCTAssertNotEqual(result.code, 0)
        let output = result.stdout + result.stderr
        XCTAssertTrue(output.contains(#"roles.rbac.authorization.k8s.io "tenantry-signing-secret" is forbidden: user "system:serviceaccount:tenantry-system:tenantry""#), output)
        XCTAssertTrue(output.contains(#"{APIGroups:[""], Resources:["secrets"], ResourceNames:["acme-signing"], Verbs:["get"]}"#), output)
    }
}
