import Foundation
import LocalCluster
import Model
import Support
import TestSupport
import XCTest

/// The whole UI in headless chromium against `tenantry serve --controller` (a child process) on a local cluster
/// that runs the script runner: webhook deliveries and the form start real Sessions, which the controller runs.
/// Two tenants: `acme` (no approval; editors, viewers) and `beta` (approval by beta-leads).
final class WebUIServeBrowserTests: XCTestCase {
    static let hostile = "Fix <script>window.__xss=1</script> rounding"
    static func tenant(_ name: String, _ repository: String, _ approval: Bool) -> String {
        """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: \(name)
        namespaces:
          - name: \(name)
        members:
          - group: \(name)-editors
            role: editor
          - group: \(name)-viewers
            role: viewer
          - group: \(name)-leads
            role: admin
        policy:
          models:
            allowed: [claude-sonnet-4-5]
          budget:
            monthly: "100.00"
          tools:
            allowed: [git, shell]
          approval:
            required: \(approval)
            approvers: [\(name)-leads]
          runner:
            type: script
            version: "0.1.0"
        routing:
          github:
            - repository: \(repository)
        triggers:
          github:
            issueLabels: [agent]

        """
    }

    func testTheUIOverServeWithRealSessionsInABrowser() throws {
        let cluster = try RunnerCluster(tenant: "acme", namespace: "acme", yaml: Self.tenant("acme", "acme/app", false))
        try cluster.repo.write("tenants/beta.yaml", Self.tenant("beta", "acme/beta-app", true))
        let applied = CLI.run(["apply", cluster.repo.path, "--kubeconfig", cluster.server.kubeconfigPath])
        XCTAssertEqual(applied.code, 0, applied.stderr)
        _ = try cluster.client.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "model-credentials", "namespace": "beta"],
                                       "stringData": ["api-key": "test-key-not-used-by-script"]])
        // The repositories runners clone, from a local origin (only loopback here).
        let git = cluster.directory + "/git"
        for name in ["app", "beta-app"] { try Self.bareRepository(at: "\(git)/acme/\(name).git") }
        let secret = Crypto.hex(Crypto.randomBytes(32))
        try secret.write(toFile: cluster.directory + "/github.secret", atomically: true, encoding: .utf8)

        let serve = try ServeProcess(arguments: ["serve", cluster.repo.path, "--controller", "--port", "0", "--quiet", "--kubeconfig", cluster.server.kubeconfigPath,
                                                 "--journal", cluster.directory + "/journal.db", "--secret-file", "github=" + cluster.directory + "/github.secret",
                                                 "--refresh-interval", "1", "--git-base-url", git, "--config", cluster.directory + "/none.yaml"],
                                     stderrPath: cluster.directory + "/serve.log")
        defer { serve.stop() }
        let base = "http://127.0.0.1:\(serve.port)"
        func token(_ user: String, _ group: String) throws -> String {
            try UserTokens.mint(directory: cluster.directory, user: user, groups: [group], validForSeconds: 1800)
        }
        func delivery(_ id: String, repository: String, title: String) throws -> JSON {
            var body = try JSON(parsing: try Data(contentsOf: PackagePaths.root.appendingPathComponent("examples/webhooks/github/issues.labeled.json")))
            body.updateObject { object in
                object.update("repository") { $0.updateObject { $0["full_name"] = .string(repository); $0["name"] = .string(String(repository.split(separator: "/")[1])) } }
                object.update("label") { $0.updateObject { $0["name"] = "agent" } }
                object.update("issue") { $0.updateObject { $0["title"] = .string(title) } }
            }
            let bytes = body.compactBytes
            return ["url": .string(base + "/api/v1/webhooks/github"), "body": .string(String(decoding: bytes, as: UTF8.self)),
                    "headers": ["Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": .string(id),
                                "X-Hub-Signature-256": .string(Self.githubSignature(bytes, secret: secret))]]
        }

        let plan: JSON = [
            "base": .string(base), "screenshots": .string(WebUIBrowserTests.screenshots("serve")), "docs": WebUIBrowserTests.docs,
            "steps": [
                ["do": "login", "name": "editor-login", "token": .string(try token("ed@acme.example", "acme-editors")), "namespaces": ["acme"]],
                ["do": "list", "name": "empty-list", "namespace": "acme", "sessions": [], "live": true],
                ["do": "live_row", "name": "delivery-appears-live", "namespace": "acme", "phase": "Completed",
                 "request": try delivery("d-1", repository: "acme/app", title: Self.hostile)],
                ["do": "script_title", "name": "script-title-as-text", "path": "/namespaces/acme/sessions", "title": .string(Self.hostile)],
                ["do": "detail", "name": "detail-log-artifact", "namespace": "acme", "texts": [.string(Self.hostile), "Completed"],
                 "log": "script runner: session in", "artifact": "runner.log", "artifactText": "done: nothing to change", "docs": true],
                ["do": "get_status", "name": "other-tenant-403", "path": "/namespaces/beta/sessions", "status": 403],
                ["do": "create", "name": "editor-starts-a-session", "namespace": "acme", "framework": "script", "description": "Tidy the changelog",
                 "repository": "acme/app", "phase": "Completed"],
                ["do": "list", "name": "list-after", "namespace": "acme", "count": 2, "docs": true],
                ["do": "login", "name": "viewer-login", "token": .string(try token("vi@acme.example", "acme-viewers")), "namespaces": ["acme"]],
                ["do": "list", "name": "viewer-list", "namespace": "acme", "count": 2, "create": false],
                ["do": "forged_post", "name": "viewer-forged-stop", "page": "/namespaces/acme/sessions", "path": "/namespaces/acme/sessions/@first/rerun"],
                ["do": "login", "name": "beta-editor", "token": .string(try token("eve@acme.example", "beta-editors")), "namespaces": ["beta"]],
                ["do": "live_row", "name": "pending-approval-appears", "namespace": "beta", "phase": "Pending",
                 "request": try delivery("d-2", repository: "acme/beta-app", title: "Needs a lead")],
                ["do": "detail", "name": "editor-cannot-approve", "namespace": "beta", "texts": ["needs approval", "Needs a lead"], "noButtons": ["approve", "reject"]],
                ["do": "login", "name": "approver-login", "token": .string(try token("lee@acme.example", "beta-leads")), "namespaces": ["beta"]],
                ["do": "approve", "name": "approver-approves", "namespace": "beta", "after": "Completed"],
            ],
        ]
        try WebUIBrowserTests.runBrowser(plan)
    }

    static func githubSignature(_ body: [UInt8], secret: String) -> String {
        "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: body))
    }

    static func bareRepository(at path: String) throws {
        let seed = path + ".seed"
        try FileManager.default.createDirectory(atPath: seed, withIntermediateDirectories: true)
        try "# App\n".write(toFile: seed + "/README.md", atomically: true, encoding: .utf8)
        for arguments in [["init", "-q", "-b", "main", seed], ["-C", seed, "add", "-A"],
                          ["-C", seed, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "seed"],
                          ["clone", "-q", "--bare", seed, path]] {
            let (code, output) = try Tool.run("git", arguments)
            guard code == 0 else { throw SetupFailure(description: "git \(arguments.joined(separator: " ")): \(output)") }
        }
    }
}

/// A step of the test's setup that failed, with what it said.
struct SetupFailure: Error, CustomStringConvertible { let description: String }
