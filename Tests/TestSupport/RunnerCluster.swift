import Apply
import Foundation
import LocalCluster
import Model
import SessionController
import Sessions

/// A local cluster whose job controller and node run real processes, with one tenant applied from a fresh tenant
/// repo (`tenants/<name>.yaml`) and the model credentials Secret its runner mounts; the session controller on
/// request, running the built `tenantry` executable as the runner.
public final class RunnerCluster: @unchecked Sendable {
    public let directory: String
    public let server: LocalClusterServer
    public let client: KubeClient
    public let repo: TempRepo
    public let namespace: String
    public private(set) var controller: SessionController?

    public init(tenant name: String, namespace: String, yaml: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-\(UUID().uuidString)").path
        var options = LocalClusterServer.Options()
        options.jobBackoffSeconds = 0.1
        server = try LocalClusterServer.start(directory: directory, options: options)
        client = KubeClient(config: try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve(), fieldManager: "test",
                            retry: KubeRetryPolicy(attempts: 5, initialDelay: 0.02, maxDelay: 0.2, maxRetryAfter: 1))
        self.namespace = namespace
        repo = try TempRepo()
        try repo.write("tenants/\(name).yaml", yaml)
        let applied = CLI.run(["apply", repo.path, "--kubeconfig", server.kubeconfigPath])
        guard applied.code == 0 else { throw FixtureError("apply failed: \(applied.stderr)") }
        // The model credentials Secret the runner mounts, named by the platform (never in git).
        _ = try client.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "model-credentials", "namespace": .string(namespace)],
                               "stringData": ["api-key": "test-key-not-used-by-script"]])
    }

    deinit {
        controller?.stop()
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The built `tenantry` executable (the test bundle sits beside it).
    public static var tenantry: String {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("tenantry").path
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tenantry").path
    }

    /// Starts the session controller; runners upload their artifacts to `apiURL`.
    @discardableResult
    public func startController(apiURL: String = "http://127.0.0.1:1", log: @escaping @Sendable (String) -> Void = { _ in }) throws -> SessionController {
        let platform = try repo.render().platform
        let environment = RunnerEnvironment(runners: platform.runners, apiURL: apiURL, containers: platform.defaults.containers,
                                            runnerCommand: [Self.tenantry])
        let configuration = SessionController.Configuration(environment: environment,
                                                            pricing: Dictionary(platform.models.map { ($0.name, $0.pricing) }, uniquingKeysWith: { a, _ in a }),
                                                            resyncInterval: 5, workers: 2, log: log)
        let controller = SessionController(client: client, configuration: configuration)
        controller.start()
        self.controller = controller
        return controller
    }

    public func stopController() {
        controller?.stop()
        controller = nil
    }

    /// A Session as the webhook intake writes it, with the `script` framework running `command`.
    @discardableResult
    public func createSession(_ name: String, command: String?, approvalRequired: Bool = false, annotations: JSONObject = [:]) throws -> JSONObject {
        var config: JSONObject = ["model": "claude-sonnet-4-5"]
        if let command { config["command"] = .string(command) }
        let session = Session(
            name: name, namespace: namespace,
            trigger: .init(source: .github, event: "issues.labeled", deliveryID: UUID().uuidString, payload: ["title": "Fix rounding"]),
            framework: .init(type: "script", version: "0.1.0", config: config),
            constraints: .init(allowedModels: ["claude-sonnet-4-5"], budget: Amount("100"), allowedTools: ["git", "shell"],
                               approvalRequired: approvalRequired))
        var object = session.object
        if !annotations.isEmpty { object.update("metadata") { $0.updateObject { $0["annotations"] = .object(annotations) } } }
        return try client.create(object)
    }
}
