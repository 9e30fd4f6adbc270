import Foundation
import LocalCluster
import XCTest

/// A local cluster that enforces RBAC, with `deploy/`'s ServiceAccount, ClusterRole and Role applied as the admin
/// and a token minted for the ServiceAccount with the TokenRequest API (`kubectl create token`): what the deploy
/// privilege tests run Tenantry as, in WebhooksTests (the receiver in process) and CommandsTests (`tenantry serve`).
public final class DeployRBAC {
    public static let deploy = PackagePaths.root.appendingPathComponent("deploy").path
    public static let rbacFiles = ["namespace", "serviceaccount", "clusterrole", "clusterrolebinding", "role", "rolebinding"]
    public let cluster: LocalClusterServer
    public let directory: String

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-rbac-\(UUID().uuidString)").path
        cluster = try LocalClusterServer.start(directory: directory)
    }

    public func stop() {
        cluster.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    public func kubectl(_ arguments: [String], kubeconfig: String? = nil) throws -> (code: Int32, output: String) {
        try Tool.run("kubectl", ["--kubeconfig", kubeconfig ?? cluster.kubeconfigPath, "--cache-dir", directory + "/kubectl-cache"] + arguments)
    }

    /// Applies deploy/'s RBAC as the admin (with `edit` applied to the ClusterRole's text first) and returns a
    /// kubeconfig whose only credential is a fresh token of the ServiceAccount tenantry-system/tenantry.
    public func serviceAccountKubeconfig(editClusterRole edit: (String) -> String = { $0 }) throws -> String {
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
    public func forbidden(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.contains("forbidden") || $0.contains("Forbidden") || $0.contains("cannot ") }
    }
}
