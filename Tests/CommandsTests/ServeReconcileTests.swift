import Foundation
import HTTPClient
import LocalCluster
import Model
import Support
import TestSupport
import Webhooks
import XCTest

/// `tenantry serve --reconcile`: the tenant repo followed in git, reconciled into the cluster, and the tenant table
/// swapped once a revision is reconciled; a GitHub push delivery for the repository reconciles at once.
final class ServeReconcileTests: XCTestCase {
    private func ready(_ client: HTTPClient, _ port: UInt16) -> String {
        (try? client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/readyz")))
            .map { "\($0.status) \($0.text)" } ?? "no answer"
    }

    func testTheTenantTableFollowsReconciledRevisionsAndAPushReconcilesAtOnce() throws {
        let source = try ExamplesOrigin("serve-reconcile")
        defer { source.stop() }
        let base = source.base, cluster = source.cluster, origin = source.origin, work = source.work
        let config = try source.config("tenantry")
        let secret = base.appendingPathComponent("github-secret")
        try Data("push-secret".utf8).write(to: secret)

        let serve = try ServeProcess(arguments: ["serve", "--reconcile", "--config", config.path, "--port", "0", "--quiet",
                                                 "--kubeconfig", cluster.kubeconfigPath, "--secret-file", "github=\(secret.path)",
                                                 "--journal", base.appendingPathComponent("journal.db").path])
        let client = HTTPClient()
        eventually("the first revision is reconciled and routes webhooks") { ready(client, serve.port).hasPrefix("200 ") }
        XCTAssertTrue(ready(client, serve.port).contains("4 namespaces"), ready(client, serve.port))

        // A new tenant is pushed; the push delivery starts the reconcile long before the hour is up.
        try Data(TempRepo.tenant("extra").utf8).write(to: work.appendingPathComponent("tenants/extra.yaml"))
        try GitCLI.run(["add", "-A"], in: work)
        try GitCLI.run(["commit", "-q", "-m", "a new tenant"], in: work)
        try GitCLI.run(["pull", "-q", "--rebase", origin.path, "main"], in: work)
        try GitCLI.run(["push", "-q", origin.path, "main"], in: work)
        var push = try XCTUnwrap(try JSON(parsing: Data(contentsOf: PackagePaths.root.appendingPathComponent("examples/webhooks/github/push.json"))).objectValue)
        var repository = try XCTUnwrap(push["repository"]?.objectValue)
        repository["clone_url"] = .string(origin.path)
        push["repository"] = .object(repository)
        let body = JSON.object(push).compactBytes
        let answer = try client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(serve.port)/api/v1/webhooks/github", headers: [
            ("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", UUID().uuidString),
            ("X-Hub-Signature-256", "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array("push-secret".utf8), message: body))),
        ], body: body))
        XCTAssertEqual(answer.status, 202, answer.text)
        XCTAssertTrue(answer.text.contains("its reconcile starts now"), answer.text)
        eventually("the pushed tenant is reconciled and routable") { ready(client, serve.port).contains("5 namespaces") }
        XCTAssertEqual(serve.terminate(), 0)
    }
}
