import Apply
import Foundation
import LocalCluster
import Model
import Render
import SessionController
import Sessions
import Support
import TestSupport
import XCTest

/// A local cluster whose job controller and node run real processes, the example platform with one tenant
/// (`acme`, namespace `acme`, the `script` runner) applied into it, and a session controller whose runner
/// command is the built `tenantry` executable.
final class SessionHarness: @unchecked Sendable {
    static let namespace = "acme"
    let directory: String
    private(set) var server: LocalClusterServer
    let options: LocalClusterServer.Options
    let client: KubeClient
    let repo: TempRepo
    private(set) var controller: SessionController?
    let logs = LogLines()

    /// `namespaces`: the tenant's (its ledger namespace is the first); `monthly`: its budget.
    init(approval: Bool = false, sessionTimeout: String = "2h", namespaces: [String] = [SessionHarness.namespace], monthly: String = "100.00") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-\(UUID().uuidString)").path
        var options = LocalClusterServer.Options()
        options.jobBackoffSeconds = 0.1
        self.options = options
        server = try LocalClusterServer.start(directory: directory, options: options)
        let config = try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve()
        client = KubeClient(config: config, fieldManager: "test",
                            retry: KubeRetryPolicy(attempts: 5, initialDelay: 0.02, maxDelay: 0.2, maxRetryAfter: 1))
        repo = try TempRepo()
        try repo.write("tenants/acme.yaml", """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: acme
        namespaces:
        \(namespaces.map { "  - name: \($0)" }.joined(separator: "\n"))
        members:
          - user: ada@example.com
            role: admin
        policy:
          models:
            allowed: [claude-sonnet-4-5]
          budget:
            monthly: "\(monthly)"
          tools:
            allowed: [git, shell]
          approval:
            required: \(approval)
            approvers: [leads]
          sessionTimeout: \(sessionTimeout)
          runner:
            type: script
            version: "0.1.0"

        """)
        let applied = CLI.run(["apply", repo.path, "--kubeconfig", server.kubeconfigPath])
        guard applied.code == 0 else { throw HarnessError(message: "apply failed: \(applied.stderr)") }
        // The model credentials Secret the runner mounts, named by the platform (never in git).
        for namespace in namespaces {
            _ = try client.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "model-credentials", "namespace": .string(namespace)],
                                   "stringData": ["api-key": "test-key-not-used-by-script"]])
        }
    }

    deinit {
        controller?.stop()
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct HarnessError: Error, CustomStringConvertible { let message: String; var description: String { message } }

    /// The built `tenantry` executable (the test bundle sits beside it).
    static var tenantry: String {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("tenantry").path
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tenantry").path
    }

    /// Stops the local cluster (its Pods' processes die with it) and starts it again over the same directory and port,
    /// as a machine restart would.
    func restartCluster() throws {
        let port = server.port
        server.stop()
        server = try LocalClusterServer.start(directory: directory, port: port, options: options)
    }

    @discardableResult
    func startController(_ configure: (inout SessionController.Configuration) -> Void = { _ in }) throws -> SessionController {
        let platform = try repo.render().platform
        let environment = RunnerEnvironment(runners: platform.runners, apiURL: "http://127.0.0.1:1", containers: platform.defaults.containers,
                                            runnerCommand: [Self.tenantry])
        let logs = self.logs
        var configuration = SessionController.Configuration(environment: environment,
                                                            pricing: Dictionary(platform.models.map { ($0.name, $0.pricing) }, uniquingKeysWith: { a, _ in a }),
                                                            resyncInterval: 5, workers: 2, log: { logs.append($0) })
        configure(&configuration)
        let controller = SessionController(client: client, configuration: configuration)
        controller.start()
        self.controller = controller
        return controller
    }

    func stopController() {
        controller?.stop()
        controller = nil
    }

    /// A Session as the webhook intake writes it, with the `script` framework running `command`.
    @discardableResult
    func createSession(_ name: String, command: String?, approvalRequired: Bool = false, estimate: String = "2.50",
                       namespace: String = SessionHarness.namespace) throws -> JSONObject {
        var config: JSONObject = ["model": "claude-sonnet-4-5"]
        if let command { config["command"] = .string(command) }
        let session = Session(
            name: name, namespace: namespace,
            trigger: .init(source: .github, event: "issues.labeled", deliveryID: UUID().uuidString, payload: ["title": "Fix rounding"]),
            framework: .init(type: "script", version: "0.1.0", config: config),
            constraints: .init(allowedModels: ["claude-sonnet-4-5"], budget: Amount("100"), allowedTools: ["git", "shell"],
                               approvalRequired: approvalRequired))
        var object = session.object
        object.update("metadata") { $0.updateObject { $0["annotations"] = ["tenantry.dev/estimated-cost": .string(estimate)] } }
        return try client.create(object)
    }

    func session(_ name: String, namespace: String = SessionHarness.namespace) throws -> JSONObject? {
        try client.get(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, name: name))
    }

    func status(_ name: String, namespace: String = SessionHarness.namespace) throws -> SessionStatus {
        SessionStatus(json: try session(name, namespace: namespace)?["status"])
    }

    func phase(_ name: String, namespace: String = SessionHarness.namespace) throws -> String? {
        try session(name, namespace: namespace)?["status"]?["phase"]?.stringValue
    }

    func jobs() throws -> [JSONObject] {
        try client.list(apiVersion: "batch/v1", kind: "Job", namespace: Self.namespace)
    }

    func pods() throws -> [JSONObject] {
        try client.list(apiVersion: "v1", kind: "Pod", namespace: Self.namespace)
    }

    func events(for name: String) throws -> [JSONObject] {
        try client.list(apiVersion: "v1", kind: "Event", namespace: Self.namespace).filter { $0["involvedObject"]?["name"]?.stringValue == name }
    }

    func policy(_ namespace: String = SessionHarness.namespace) throws -> JSONObject {
        try client.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace, name: "policy"))!
    }

    func ledger() throws -> BudgetLedger? { try PolicySnapshot(object: try policy()).ledger }

    /// Sets fields of the Session's spec (what the Sessions API does for a stop or an approval), by server-side apply.
    func patchSpec(_ name: String, _ spec: JSONObject) throws {
        _ = try client.apply(["apiVersion": .string(Session.apiVersion), "kind": .string(Session.kind),
                              "metadata": ["name": .string(name), "namespace": .string(Self.namespace)], "spec": .object(spec)], force: true)
    }

    /// Whether process `pid` is still alive (and not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false)
    }
}

/// A clock a test moves forward by hand (retention, approval timeouts) instead of waiting.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    var now: Date { lock.lock(); defer { lock.unlock() }; return Date().addingTimeInterval(offset) }
    func advance(_ seconds: TimeInterval) { lock.lock(); offset += seconds; lock.unlock() }
}

final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
