import Apply
import Foundation
import LocalCluster
import Model
import Render
import Support

/// A local cluster in a fresh temporary directory, over TLS, reached the way users reach any
/// cluster: through the kubeconfig it wrote (CA data and bearer token).
public final class TestAPIServer: @unchecked Sendable {
    // Unchecked: `server` is replaced only by start(), which tests call from one thread.
    public let directory: String
    public private(set) var server: LocalClusterServer
    /// Latency, 429, 500 and dropped watches for the next requests; off until a test injects a fault.
    public let faults = FaultInjection()

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apply-\(UUID().uuidString)").path
        server = try LocalClusterServer.start(directory: directory, options: Self.options(faults))
    }

    private static func options(_ faults: FaultInjection) -> LocalClusterServer.Options {
        var options = LocalClusterServer.Options()
        options.requestHook = faults.hook
        return options
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    public var kubeconfigPath: String { server.kubeconfigPath }

    public func config() throws -> ClusterConfig {
        try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve()
    }

    /// A client with short retry delays, so tests of failures stay quick.
    public func client(fieldManager: String = "tenantry", attempts: Int = 5) throws -> KubeClient {
        KubeClient(config: try config(), fieldManager: fieldManager,
                   retry: KubeRetryPolicy(attempts: attempts, initialDelay: 0.02, maxDelay: 0.2, maxRetryAfter: 1))
    }

    /// Stops serving (the data stays); `start()` serves the same directory again on the same port,
    /// so clients made before keep working.
    public func stop() { server.stop() }

    public func start() throws {
        let port = server.port
        var lastError: Error?
        for _ in 0..<50 {
            do {
                server = try LocalClusterServer.start(directory: directory, port: port, options: Self.options(faults))
                return
            } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        throw lastError!
    }

    /// The newest resourceVersion the server has handed out. It moves on every stored write, so
    /// the same value before and after proves, at the server, that nothing was written.
    public func latestResourceVersion() throws -> String {
        try client().listResourceVersion(apiVersion: "v1", kind: "Namespace")
    }
}

/// The example tenant repo, rendered.
public enum Examples {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let tenants = root.appendingPathComponent("examples/tenants").path

    public static func rendered(_ path: String = tenants) throws -> RenderedRepo {
        Renderer.render(try RepoValidator.validate(try RepoLoader.load(path)))
    }
}

/// Objects for engine tests, stamped like Render stamps them (labels and content hash).
public enum Fixture {
    public static func configMap(_ name: String, namespace: String, data: JSON = ["k": "v"], owner: String = "team") -> JSONObject {
        stamp(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)], "data": data], owner: owner)
    }

    public static func secret(_ name: String, namespace: String, data: JSON, owner: String = "team") -> JSONObject {
        stamp(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name), "namespace": .string(namespace)], "type": "Opaque", "stringData": data], owner: owner)
    }

    public static func namespace(_ name: String, owner: String = "team") -> JSONObject {
        stamp(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]], owner: owner)
    }

    public static func manifest(_ object: JSONObject, owner: String = "team") -> Manifest { Manifest(owner: owner, object: object) }

    /// Labels plus a content hash over the object, as Render's `stamp` does.
    public static func stamp(_ object: JSONObject, owner: String) -> JSONObject {
        var object = object
        var metadata = object["metadata"]?.objectValue ?? [:]
        metadata["labels"] = [ManagedBy.managedByLabel: .string(ManagedBy.managedByValue), ManagedBy.tenantLabel: .string(owner)]
        metadata["annotations"] = nil
        object["metadata"] = .object(metadata)
        metadata["annotations"] = [ManagedBy.contentHashAnnotation: .string("sha256:" + Crypto.sha256Hex(JSON.object(object).compactBytes))]
        object["metadata"] = .object(metadata)
        return object
    }
}

/// The installed kubectl, run as a child process (v1.32 here).
public enum Kubectl {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public static var path: String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":") {
            let candidate = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public static func run(_ arguments: [String], stdin: Data? = nil) -> Result {
        guard let path else { return Result(status: -1, stdout: "", stderr: "kubectl not found on PATH") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-\(UUID().uuidString).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        do {
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            if let stdin {
                let pipe = Pipe()
                process.standardInput = pipe
                try process.run()
                pipe.fileHandleForWriting.write(stdin)
                try pipe.fileHandleForWriting.close()
            } else {
                process.standardInput = FileHandle.nullDevice
                try process.run()
            }
        } catch {
            return Result(status: -1, stdout: "", stderr: "\(error)")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
