import Foundation
import LocalCluster
import TestSupport
import XCTest

/// What `tenantry render --out` writes loads with the real kubectl: the shared objects applied server-side,
/// then every tenant's file through `kubectl apply --dry-run=client`, against the local cluster.
final class KubectlLoadTests: XCTestCase {
    private func kubectl(_ arguments: [String]) throws -> (code: Int32, output: String) {
        try Tool.run("kubectl", arguments)
    }

    func testRenderedManifestsLoadWithKubectlApplyDryRun() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-kubectl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let server = try LocalClusterServer.start(directory: base.appendingPathComponent("cluster").path)
        defer { server.stop() }
        let out = base.appendingPathComponent("out").path
        XCTAssertEqual(CLI.run(["render", PackagePaths.examples.path, "--out", out]).code, 0)

        let shared = try kubectl(["--kubeconfig", server.kubeconfigPath, "apply", "--server-side", "-f", out + "/_platform.yaml"])
        XCTAssertEqual(shared.code, 0, shared.output)
        XCTAssertTrue(shared.output.contains("customresourcedefinition.apiextensions.k8s.io/namespacepolicies.ambient.ai serverside-applied"), shared.output)
        XCTAssertTrue(shared.output.contains("clusterrole.rbac.authorization.k8s.io/tenantry:admin serverside-applied"), shared.output)

        let files = ["docs", "payments", "support"].flatMap { ["-f", "\(out)/\($0).yaml"] }
        let tenants = try kubectl(["--kubeconfig", server.kubeconfigPath, "apply", "--dry-run=client"] + files)
        XCTAssertEqual(tenants.code, 0, tenants.output)
        let lines = tenants.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 56, "one line per tenant object: \(tenants.output)")
        XCTAssertTrue(lines.allSatisfy { $0.hasSuffix("created (dry run)") }, tenants.output)
        XCTAssertTrue(lines.contains("namespacepolicy.ambient.ai/policy created (dry run)"))
    }
}
