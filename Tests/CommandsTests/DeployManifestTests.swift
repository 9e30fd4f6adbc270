import ApplyTestSupport
import Foundation
import LocalCluster
import TestSupport
import XCTest

/// `deploy/`, Tenantry's own kustomize base: built by the real kubectl's kustomize, every object passes the
/// official schemas (kubernetes-validate, strict), and the local cluster accepts `kubectl apply -k --dry-run=server`.
final class DeployManifestTests: XCTestCase {
    static let deploy = PackagePaths.root.appendingPathComponent("deploy").path

    private func kustomize() throws -> String {
        let built = Kubectl.run(["kustomize", Self.deploy])
        XCTAssertEqual(built.status, 0, built.stderr)
        return built.stdout
    }

    func testEveryObjectPassesStrictValidationAgainstKubernetes132() throws {
        let text = try kustomize()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-deploy-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(text.utf8).write(to: file)
        let result = try Tool.run("kubernetes-validate", ["--strict", "--kubernetes-version", "1.32.0", "--quiet", "--no-warn", file.path])
        XCTAssertEqual(result.code, 0, result.output)
        let kinds = text.split(separator: "\n").filter { $0.hasPrefix("kind: ") }.map { String($0.dropFirst(6)) }.sorted()
        XCTAssertEqual(kinds, ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Deployment", "Namespace",
                               "NetworkPolicy", "NetworkPolicy", "NetworkPolicy", "PodDisruptionBudget", "PodDisruptionBudget",
                               "Role", "RoleBinding", "Service", "ServiceAccount"])
    }

    /// The restricted profile, on every container of both Deployments, and the pod name for the Lease holder.
    func testBothDeploymentsRunRestrictedWithProbesAndLimits() throws {
        let script = """
        import sys, yaml
        docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "Deployment"]
        for d in docs:
            pod = d["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, d["metadata"]["name"]
            assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            assert pod["serviceAccountName"] == "tenantry"
            for c in pod.get("initContainers", []) + pod["containers"]:
                sc = c["securityContext"]
                assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, c["name"]
                assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
                assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]
            main = pod["containers"][0]
            # Receivers are Ready with a tenant table; a controller follower has none until it leads.
            ready = "/readyz" if d["metadata"]["name"] == "tenantry-receiver" else "/healthz"
            assert main["readinessProbe"]["httpGet"]["path"] == ready, d["metadata"]["name"]
            assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert any(e["name"] == "POD_NAME" and e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name" for e in main["env"])
            print(d["metadata"]["name"], d["spec"]["replicas"], " ".join(main["args"]))
        """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-deploy-check-\(UUID().uuidString).py")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(script.utf8).write(to: file)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-deploy-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: input) }
        try Data(try kustomize().utf8).write(to: input)
        let result = try Tool.run("sh", ["-c", "python3 \"$0\" < \"$1\"", file.path, input.path])
        XCTAssertEqual(result.code, 0, result.output)
        let lines = result.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, result.output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("tenantry-controller 2 serve --reconcile --controller ") && $0.contains("--leader-elect") }, result.output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("tenantry-receiver 3 serve ") && !$0.contains("--reconcile") && $0.contains("--admission=cluster")
                                       && $0.contains("--ack-after=cluster") }, result.output)
    }

    /// The namespace first (as on any cluster: a server-side dry run cannot create into a namespace that does not
    /// exist yet), then the whole base as a server-side dry run, which stores nothing.
    func testServerSideDryRunOfTheWholeBaseSucceeds() throws {
        let cluster = try TestAPIServer()
        let kubeconfig = ["--kubeconfig", cluster.kubeconfigPath, "--cache-dir", cluster.directory + "/kubectl-cache"]
        let namespace = Kubectl.run(kubeconfig + ["apply", "-f", Self.deploy + "/namespace.yaml"])
        XCTAssertEqual(namespace.status, 0, namespace.stderr)
        let dryRun = Kubectl.run(kubeconfig + ["apply", "-k", Self.deploy, "--dry-run=server"])
        XCTAssertEqual(dryRun.status, 0, dryRun.stderr)
        XCTAssertEqual(dryRun.stdout.split(separator: "\n").filter { $0.hasSuffix("(server dry run)") }.count, 15, dryRun.stdout)
        XCTAssertTrue(dryRun.stdout.contains("deployment.apps/tenantry-controller created (server dry run)"), dryRun.stdout)
        let stored = Kubectl.run(kubeconfig + ["get", "deployments,serviceaccounts", "-n", "tenantry-system", "-o", "name"])
        XCTAssertEqual(stored.status, 0, stored.stderr)
        XCTAssertFalse(stored.stdout.contains("tenantry"), "a dry run stores nothing: \(stored.stdout)")
    }
}
