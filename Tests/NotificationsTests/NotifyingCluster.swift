import Apply
import Foundation
import HTTPServer
import LocalCluster
import Model
import Notifications
import Sessions
import Support
import TestSupport
import XCTest

/// A local cluster whose node runs the runner processes, one tenant (`acme`) whose notifications go to the test's
/// fake receivers, and `tenantry controller` running as its own process (so it can be killed with SIGKILL) with the
/// notification flags pointed at those receivers.
final class NotifyingCluster: @unchecked Sendable {
    static let namespace = "acme"
    let directory: URL
    let server: LocalClusterServer
    let client: KubeClient
    let repo: TempRepo
    private var controller: Process?
    /// The commit on main of the acme/widgets repository runners clone: a pull request's head.
    private(set) var headCommit = ""
    private var starts = 0

    var outboxPath: String { directory.appendingPathComponent("outbox.sqlite").path }
    var auditPath: String { directory.appendingPathComponent("audit.db").path }
    var gate: URL { directory.appendingPathComponent("gate") }

    /// `webhooks`: (url, events) as the tenant file lists them. `allowLoopback`: the platform allows 127.0.0.1/32 for
    /// the fake receivers (the default denies it). `receivers`: whose certificates the controller trusts.
    init(webhooks: [(url: String, events: [String])], allowLoopback: Bool = true, receivers: [FakeReceiver]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("notify-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var options = LocalClusterServer.Options()
        options.jobBackoffSeconds = 0.1
        server = try LocalClusterServer.start(directory: directory.appendingPathComponent("cluster").path, options: options)
        let config = try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve()
        client = KubeClient(config: config, fieldManager: "test",
                            retry: KubeRetryPolicy(attempts: 5, initialDelay: 0.02, maxDelay: 0.2, maxRetryAfter: 1))
        var platform = TempRepo.platform
        if allowLoopback { platform += "\nnotifications:\n  allowCIDRs: [127.0.0.1/32]\n" }
        repo = try TempRepo(platform: platform)
        let hooks = webhooks.map { "      - url: \($0.url)\n        events: [\($0.events.joined(separator: ", "))]\n" }.joined()
        try repo.write("tenants/acme.yaml", TempRepo.tenant("acme", extra: """
          tools:
            allowed: [git, shell]
          runner:
            type: script
            version: "0.1.0"
          notifications:
            signingSecret: acme-notifications
            webhooks:
        \(hooks)
        """))
        let applied = CLI.run(["apply", repo.path, "--kubeconfig", server.kubeconfigPath])
        guard applied.code == 0 else { throw HarnessError(description: "apply failed: \(applied.stderr)") }
        _ = try client.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "model-credentials", "namespace": .string(Self.namespace)],
                               "stringData": ["api-key": "test-key-not-used-by-script"]])
        // The tenant's signing secret: in the cluster, never in the tenant repo.
        _ = try client.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "acme-notifications", "namespace": .string(Self.namespace)],
                               "data": ["secret": .string(Data(Fixture.secret).base64EncodedString())]])
        try receivers.map(\.identity.certificatePEM).joined(separator: "\n").write(to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        try "ghp_e2e-never-printed\n".write(to: directory.appendingPathComponent("github-token"), atomically: true, encoding: .utf8)
        try "xoxb-e2e-never-printed\n".write(to: directory.appendingPathComponent("slack-token"), atomically: true, encoding: .utf8)
        // The repository runners clone for a GitHub trigger (acme/widgets), on disk.
        let git = directory.appendingPathComponent("git/acme")
        try FileManager.default.createDirectory(at: git, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("widgets-source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try "widgets\n".write(to: source.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try GitCLI.publish(source, as: git.appendingPathComponent("widgets.git"), work: directory.appendingPathComponent("widgets-work"))
        headCommit = try GitCLI.run(["rev-parse", "main"], in: git.appendingPathComponent("widgets.git")).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        if let controller, controller.isRunning { kill(controller.processIdentifier, SIGKILL); controller.waitUntilExit() }
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    struct HarnessError: Error, CustomStringConvertible { let description: String }

    /// The built `tenantry` executable (the test bundle sits beside it).
    static var tenantry: String {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("tenantry").path
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tenantry").path
    }

    /// Starts `tenantry controller` with the notification flags; `github`/`slack`: the fake APIs' base URLs.
    func startController(github: String? = nil, slack: String? = nil, jira: String? = nil, timeout: TimeInterval = 15) throws {
        starts += 1
        var arguments = ["controller", repo.path, "--kubeconfig", server.kubeconfigPath, "--runner-command", Self.tenantry,
                         "--api-url", "http://127.0.0.1:1", "--git-base-url", directory.appendingPathComponent("git").path,
                         "--resync", "2", "--workers", "2",
                         "--notify-outbox", outboxPath, "--audit-db", auditPath, "--notify-ca-file", directory.appendingPathComponent("ca.pem").path,
                         "--notify-timeout", String(timeout), "--ui-base-url", "https://ui.tenantry.example",
                         "--api-base-url", "https://api.tenantry.example"]
        if let github { arguments += ["--github-api", github, "--github-token-file", directory.appendingPathComponent("github-token").path] }
        if let slack { arguments += ["--slack-api", slack, "--slack-token", "file:" + directory.appendingPathComponent("slack-token").path] }
        if let jira { arguments += ["--jira-site", jira, "--jira-user", "bot@example.com", "--jira-token", "env:TENANTRY_E2E_JIRA_TOKEN"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tenantry)
        process.environment = ProcessInfo.processInfo.environment.merging(["TENANTRY_E2E_JIRA_TOKEN": "jira-e2e-never-printed"]) { $1 }
        process.arguments = arguments
        let log = directory.appendingPathComponent("controller-\(starts).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        controller = process
    }

    /// What the controller processes printed so far (for failure messages and the no-secret check).
    var controllerLog: String {
        (1...max(1, starts)).map { (try? String(contentsOf: directory.appendingPathComponent("controller-\($0).log"), encoding: .utf8)) ?? "" }
            .joined(separator: "\n")
    }

    /// SIGKILL: nothing is flushed or shut down, only what is on disk survives.
    func killController() {
        guard let controller else { return }
        kill(controller.processIdentifier, SIGKILL)
        controller.waitUntilExit()
        self.controller = nil
    }

    /// A Session as the webhook intake writes it, with the `script` framework running `command`.
    @discardableResult
    func createSession(_ name: String, source: Session.Source = .github, payload: JSONObject, command: String, estimate: String = "2.50",
                       approvalRequired: Bool = false) throws -> JSONObject {
        let session = Session(
            name: name, namespace: Self.namespace,
            trigger: .init(source: source, event: "issues.labeled", deliveryID: UUID().uuidString, payload: payload),
            framework: .init(type: "script", version: "0.1.0", config: ["model": "claude-sonnet-4-5", "command": .string(command)]),
            constraints: .init(allowedModels: ["claude-sonnet-4-5"], budget: Amount("100"), allowedTools: ["git", "shell"], approvalRequired: approvalRequired))
        var object = session.object
        object.update("metadata") { $0.updateObject {
            $0["annotations"] = ["tenantry.dev/estimated-cost": .string(estimate)]
            $0["labels"] = .object(JSONObject([(ManagedBy.tenantLabel, JSON.string("acme"))]))
        } }
        return try client.create(object)
    }

    /// Sets fields of the Session's spec (what the Sessions API does for a stop or an approval), by server-side apply.
    func patchSpec(_ name: String, _ spec: JSONObject) throws {
        _ = try client.apply(["apiVersion": .string(Session.apiVersion), "kind": .string(Session.kind),
                              "metadata": ["name": .string(name), "namespace": .string(Self.namespace)], "spec": .object(spec)], force: true)
    }

    func status(_ name: String) throws -> SessionStatus {
        SessionStatus(json: try client.get(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: Self.namespace, name: name))?["status"])
    }

    /// The history entries the controller wrote for notification attempts of `name`.
    func notifications(_ name: String) throws -> [JSONObject] {
        try status(name).history.filter { $0.event == "Notification" }.map(\.data)
    }
}

/// Checks a callback the way a receiver does: HMAC-SHA256 of the exact body with the shared secret.
func verifySignature(_ request: Request, file: StaticString = #filePath, line: UInt = #line) {
    let expected = "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Fixture.secret, message: Array(request.body)))
    XCTAssertEqual(request.headers["x-tenantry-signature-256"], expected, "signature of \(request.path)", file: file, line: line)
}
