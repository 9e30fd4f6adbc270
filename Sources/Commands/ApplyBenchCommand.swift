import Apply
import Foundation
import LocalCluster
import Model
import Reconciler
import Render
import Support

/// `tenantry bench apply --tenants N`: the first apply and a no-op re-reconcile of N generated
/// tenants on a fresh local cluster, side by side with `kubectl apply --server-side` of the same
/// rendered manifests on another fresh local cluster. Figures only: nothing is asserted.
public enum ApplyBenchCommand {
    public static let usage = """
        Usage: tenantry bench apply [--tenants N] [--concurrency N] [--no-kubectl] [--keep]

        Generates N synthetic tenants (default 100), renders them, and on a fresh local cluster
        (in a temporary directory, over HTTPS) times:
          - Tenantry's first apply (staged server-side apply, inventory written);
          - a no-op re-reconcile (nothing changed: one list per kind, no writes expected);
        then, on a second fresh local cluster, `kubectl apply --server-side` of the same manifests,
        first and again (kubectl's requests counted from its -v=6 log). Requests are counted by the
        client; "stored" is how far the server's resourceVersion moved (writes the server kept).
        Targets for 1,000 tenants: first apply under 60 s, no-op reconcile under 3 s with 0 writes.

        Flags:
          --tenants N       tenants to generate (default 100)
          --concurrency N   Tenantry's objects in flight per stage (default 8)
          --no-kubectl      skip the kubectl comparison
          --keep            keep the generated repo and cluster directories and print where they are
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void) throws -> Int32 {
        let flags = try Arguments(arguments, valued: ["--tenants", "--concurrency"], switches: ["--no-kubectl", "--keep"])
        let positional = try flags.positionals(max: 1, usage: "tenantry bench apply [--tenants N]")
        guard positional.isEmpty || positional == ["apply"] else { throw UsageError("say what to measure: tenantry bench apply") }
        let count = try flags.value("--tenants").map { text throws(UsageError) -> Int in
            guard let value = Int(text), value > 0 else { throw UsageError("--tenants must be a positive whole number, got \"\(text)\"") }
            return value
        } ?? 100
        var options = try ClusterFlags.options(flags, dryRun: false)
        options.prune.allowMassPrune = true

        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-apply-\(getpid())")
        try? FileManager.default.removeItem(at: base)
        defer { if !flags.isSet("--keep") { try? FileManager.default.removeItem(at: base) } }
        let repo = base.appendingPathComponent("repo")
        // The same generated tenants as `bench render`.
        try SyntheticRepo.write(tenants: count, to: repo)
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(repo.path)))
        let objects = rendered.manifests.count
        stderr("bench apply: \(count) tenants, \(objects) objects\n")

        // Tenantry on its own fresh cluster.
        let tenantryCluster = try LocalClusterServer.start(directory: base.appendingPathComponent("cluster-tenantry").path)
        defer { tenantryCluster.stop() }
        let config = try Kubeconfig.load(paths: [tenantryCluster.kubeconfigPath]).resolve()
        let clock = ContinuousClock()
        var rows: [Row] = []
        for label in ["tenantry first apply", "tenantry no-op reconcile"] {
            let client = KubeClient(config: config)
            let before = try client.listResourceVersion(apiVersion: "v1", kind: "Namespace")
            client.resetRequestCounts()
            let started = clock.now
            let result = Reconciler(client: client).reconcile(rendered, options: options)
            let elapsed = clock.now - started
            let counts = client.requestCounts
            let after = try client.listResourceVersion(apiVersion: "v1", kind: "Namespace")
            rows.append(Row(label: label, seconds: seconds(elapsed), requests: counts.total, writes: counts.writes,
                            stored: (Int(after) ?? 0) - (Int(before) ?? 0), failed: result.changes.failures.count,
                            note: result.changes.summary))
            stderr("  \(label): \(Reconciler.seconds(elapsed)), \(counts)\n")
        }

        // kubectl on a second fresh cluster, same manifests.
        if !flags.isSet("--no-kubectl") {
            if let kubectl = findKubectl() {
                let kubectlCluster = try LocalClusterServer.start(directory: base.appendingPathComponent("cluster-kubectl").path)
                defer { kubectlCluster.stop() }
                let manifests = base.appendingPathComponent("manifests.yaml")
                try Data(YAML.emit(rendered.manifests.map { .object($0.object) }).utf8).write(to: manifests)
                let client = KubeClient(config: try Kubeconfig.load(paths: [kubectlCluster.kubeconfigPath]).resolve())
                for label in ["kubectl apply --server-side", "kubectl apply --server-side (again)"] {
                    let before = try client.listResourceVersion(apiVersion: "v1", kind: "Namespace")
                    let started = clock.now
                    let run = runProcess(kubectl, ["--kubeconfig", kubectlCluster.kubeconfigPath, "apply", "--server-side", "--field-manager", "kubectl-bench",
                                                   "-f", manifests.path, "-v=6"])
                    let elapsed = clock.now - started
                    let after = try client.listResourceVersion(apiVersion: "v1", kind: "Namespace")
                    let requestLines = run.stderr.split(separator: "\n").filter { $0.contains(" https://") && ($0.contains("GET ") || $0.contains("PATCH ") || $0.contains("POST ") || $0.contains("PUT ") || $0.contains("DELETE ")) }
                    let writes = requestLines.filter { $0.contains("PATCH ") || $0.contains("POST ") || $0.contains("PUT ") || $0.contains("DELETE ") }.count
                    let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("Error from server") || $0.hasPrefix("error:") }.count
                    rows.append(Row(label: label, seconds: seconds(elapsed), requests: requestLines.count, writes: writes,
                                    stored: (Int(after) ?? 0) - (Int(before) ?? 0), failed: errors, note: "exit \(run.status)"))
                    stderr("  \(label): \(Reconciler.seconds(elapsed)), exit \(run.status)\n")
                }
            } else {
                stderr("kubectl not found on PATH: comparison skipped\n")
            }
        }

        stdout(table(rows, tenants: count, objects: objects))
        if flags.isSet("--keep") { stdout("kept: \(base.path)\n") }
        return Tenantry.ExitCode.success
    }

    struct Row {
        var label: String
        var seconds: Double
        var requests: Int
        var writes: Int
        var stored: Int
        var failed: Int
        var note: String
    }

    static func table(_ rows: [Row], tenants: Int, objects: Int) -> String {
        let width = max(30, rows.map(\.label.count).max() ?? 0)
        func pad(_ text: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - text.count)) + text }
        var text = "\(tenants) tenants, \(objects) objects\n"
        text += "run".padding(toLength: width, withPad: " ", startingAt: 0) + pad("seconds", 9) + pad("requests", 10) + pad("writes", 8) + pad("stored", 8) + pad("failed", 8) + "  result\n"
        for row in rows {
            text += row.label.padding(toLength: width, withPad: " ", startingAt: 0) + pad(String(format: "%.2f", row.seconds), 9) + pad("\(row.requests)", 10)
                + pad("\(row.writes)", 8) + pad("\(row.stored)", 8) + pad("\(row.failed)", 8) + "  \(row.note)\n"
        }
        return text
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, attos) = duration.components
        return Double(s) + Double(attos) / 1e18
    }

    static func findKubectl() -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":") {
            let candidate = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func runProcess(_ path: String, _ arguments: [String]) -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("bench-kubectl-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        do {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
        } catch {
            return (-1, "\(error)")
        }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
