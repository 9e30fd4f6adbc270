import Apply
import ApplyTestSupport
import Commands
import Foundation
import Model
import Reconciler
import TestSupport
import XCTest

/// `tenantry apply`, `diff` and `reconcile` through the dispatcher, against the local cluster.
final class CommandTests: XCTestCase {
    var cluster: TestAPIServer!

    override func setUpWithError() throws { cluster = try TestAPIServer() }
    override func tearDown() { cluster = nil }

    func testDiffExitCodesAreZeroOneTwoAsKubectlDiff() throws {
        let badFlag = CLI.run(["diff", Examples.tenants, "--colr", "never"])
        XCTAssertEqual(badFlag.code, 2)
        XCTAssertTrue(badFlag.stderr.contains("unknown flag --colr (did you mean --color?)"), badFlag.stderr)
        XCTAssertEqual(badFlag.stdout, "")

        let unreachable = try writeKubeconfig(server: "https://127.0.0.1:1")
        let down = CLI.run(["diff", Examples.tenants, "--kubeconfig", unreachable])
        XCTAssertEqual(down.code, 2, down.stderr)

        let fresh = CLI.run(["diff", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath, "--color", "never"])
        XCTAssertEqual(fresh.code, 1, fresh.stderr)
        XCTAssertTrue(fresh.stdout.contains("Namespace/docs created\n  + .apiVersion: \"v1\"\n"), fresh.stdout)
        XCTAssertTrue(fresh.stdout.contains("NamespacePolicy/docs/policy created: its CustomResourceDefinition is created by this apply"), fresh.stdout)
        XCTAssertEqual(try cluster.client().list(apiVersion: "v1", kind: "Namespace", labelSelector: "app.kubernetes.io/managed-by").count, 0,
                       "diff wrote nothing")

        let applied = CLI.run(["apply", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath])
        XCTAssertEqual(applied.code, 0, applied.stderr)
        let converged = CLI.run(["diff", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath])
        XCTAssertEqual(converged.code, 0, converged.stdout + converged.stderr)
        XCTAssertEqual(converged.stdout, "")
    }

    func testApplyPrintsALinePerObjectAndLogsJSONLines() throws {
        let run = CLI.run(["apply", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath, "--log-format", "json"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, try Examples.rendered().manifests.count)
        XCTAssertEqual(lines.first, "CustomResourceDefinition/namespacepolicies.ambient.ai created")
        XCTAssertTrue(lines.contains("RoleBinding/docs/tenantry-admins created"))
        for line in lines { XCTAssertTrue(line.hasSuffix(" created"), String(line)) }
        let logs = run.stderr.split(separator: "\n").map { try? JSON(parsing: String($0)) }
        XCTAssertFalse(logs.isEmpty)
        XCTAssertTrue(logs.allSatisfy { $0?["msg"]?.stringValue != nil }, run.stderr)
        XCTAssertTrue(logs.contains { $0?["msg"]?.stringValue?.hasPrefix("apply namespaced: 52 objects") == true }, run.stderr)
        XCTAssertFalse(run.stderr.contains(cluster.server.token), "the bearer token is never logged")

        let again = CLI.run(["apply", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath])
        XCTAssertTrue(again.stdout.contains("Namespace/docs unchanged\n"), again.stdout)
        XCTAssertTrue(again.stderr.contains("summary: "), again.stderr)
        XCTAssertTrue(again.stderr.contains(" 0 writes,"), "nothing changed, nothing written: \(again.stderr)")
    }

    func testReconcileOfAPlainDirectoryRendersAndApplies() throws {
        let run = CLI.run(["reconcile", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath])
        XCTAssertEqual(run.code, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("Namespace/payments-prod created\n"), run.stdout)
        XCTAssertFalse(run.stderr.contains("status:"), "no git source: no report")
        XCTAssertNotNil(try cluster.client().get(ObjectReference(apiVersion: "v1", kind: "Namespace", namespace: nil, name: "payments-prod")))
    }

    func testApplyDryRunSaysSoAndStoresNothing() throws {
        let before = try cluster.latestResourceVersion()
        let run = CLI.run(["apply", Examples.tenants, "--kubeconfig", cluster.kubeconfigPath, "--dry-run"])
        XCTAssertTrue(run.stdout.contains("Namespace/docs created (server dry run)\n"), run.stdout)
        XCTAssertEqual(try cluster.latestResourceVersion(), before)
    }

    func testUsageErrorsExitTwo() {
        XCTAssertEqual(CLI.run(["apply", "--prune-namespace"]).stderr.contains("did you mean --prune-namespaces?"), true)
        XCTAssertEqual(CLI.run(["apply", "--concurrency", "0"]).code, 2)
        XCTAssertEqual(CLI.run(["apply", "--log-format", "xml"]).code, 2)
        XCTAssertEqual(CLI.run(["reconcile"]).code, 2)
        XCTAssertEqual(CLI.run(["diff", "--help"]).stdout.contains("Exit status: 0 no differences; 1 differences found; 2 bad flags or an error"), true)
    }

    func testWithNoClusterConfiguredTheLocalClusterIsStartedOrReused() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("home-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let locator = ClusterLocator(environment: [:], home: home.path, serviceAccountDirectory: home.path + "/none")
        let local = home.appendingPathComponent(".tenantry/cluster").path
        let first = try ClusterTarget.connect(locator, localDirectory: local)
        XCTAssertNotNil(first.startedServer)
        XCTAssertTrue(first.config.source.contains("started"), first.config.source)
        // While it runs, a second command uses the kubeconfig it wrote instead of starting another.
        let second = try ClusterTarget.connect(locator, localDirectory: local)
        XCTAssertNil(second.startedServer)
        XCTAssertEqual(second.config.server, first.config.server)
        XCTAssertEqual(try KubeClient(config: second.config).resource(apiVersion: "v1", kind: "ConfigMap").plural, "configmaps")
        first.close()
    }

    func testReconcileFetchesAppliesAndCommitsTheStatusReport() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let origin = base.appendingPathComponent("origin.git"), work = base.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try GitCLI.run(["init", "-q", "--bare", "--initial-branch=main", origin.path], in: base)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Examples.tenants), to: work)
        try GitCLI.run(["init", "-q", "-b", "main"], in: work)
        try GitCLI.run(["add", "-A"], in: work)
        try GitCLI.run(["commit", "-q", "-m", "tenants"], in: work)
        try GitCLI.run(["push", "-q", origin.path, "main"], in: work)
        let config = base.appendingPathComponent("tenantry.yaml")
        try Data("""
            source:
              url: \(origin.path)
              branch: main
              cache: \(base.appendingPathComponent("cache").path)
            status:
              branch: main

            """.utf8).write(to: config)

        let run = CLI.run(["reconcile", "--config", config.path, "--kubeconfig", cluster.kubeconfigPath])
        XCTAssertEqual(run.code, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("fetch: main@sha1:"), run.stderr)
        XCTAssertTrue(run.stderr.contains("status: committed"), run.stderr)
        XCTAssertTrue(run.stdout.contains("RoleBinding/docs/tenantry-admins created"), run.stdout)
        let files = try GitCLI.run(["ls-tree", "-r", "--name-only", "main"], in: origin)
        XCTAssertTrue(files.contains("status/status.json"), files)
        let status = try GitCLI.run(["show", "main:status/tenants/docs.md"], in: origin)
        XCTAssertTrue(status.contains("RoleBinding/docs/tenantry-admins"), status)

        // Reconciling again applies nothing: no reader-visible change, so no commit (it used to commit
        // once more, only because "applied this round" went to 0).
        let commits = try GitCLI.run(["rev-list", "--count", "main"], in: origin)
        for _ in 0..<2 {
            let again = CLI.run(["reconcile", "--config", config.path, "--kubeconfig", cluster.kubeconfigPath])
            XCTAssertEqual(again.code, 0, again.stderr)
            XCTAssertTrue(again.stderr.contains("status: unchanged on main"), again.stderr)
        }
        XCTAssertEqual(try GitCLI.run(["rev-list", "--count", "main"], in: origin), commits)
        XCTAssertEqual(try GitCLI.run(["show", "main:status/tenants/docs.md"], in: origin), status, "the last change's report stays")
    }


    func writeKubeconfig(server: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)").path
        try Data("""
            clusters: [{name: c, cluster: {server: "\(server)", insecure-skip-tls-verify: true}}]
            users: [{name: u, user: {token: abc}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
