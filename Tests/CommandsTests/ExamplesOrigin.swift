import Foundation
import LocalCluster
import TestSupport

/// A local cluster and a git origin publishing examples/tenants, in a fresh temporary directory: what the tests of
/// `serve --reconcile` and `reconcile --watch` reconcile from.
final class ExamplesOrigin {
    let base: URL
    let origin: URL
    let work: URL
    let cluster: LocalClusterServer

    init(_ prefix: String) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        origin = base.appendingPathComponent("origin.git")
        work = base.appendingPathComponent("work")
        do {
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            try GitCLI.publish(PackagePaths.examples, as: origin, work: work)
            cluster = try LocalClusterServer.start(directory: base.appendingPathComponent("cluster").path)
        } catch {
            try? FileManager.default.removeItem(at: base)
            throw error
        }
    }

    /// `NAME.yaml`: a tenantry.yaml whose source is the origin, checked hourly (so only a start or a push reconciles),
    /// with its own cache.
    func config(_ name: String) throws -> URL {
        let config = base.appendingPathComponent("\(name).yaml")
        try Data("source:\n  url: \(origin.path)\n  interval: 1h\n  cache: \(base.appendingPathComponent("cache-\(name)").path)\n".utf8).write(to: config)
        return config
    }

    func kubectl(_ arguments: [String]) throws -> (code: Int32, output: String) {
        try Tool.run("kubectl", ["--kubeconfig", cluster.kubeconfigPath, "--cache-dir", base.appendingPathComponent("kubectl-cache").path] + arguments)
    }

    func stop() {
        cluster.stop()
        try? FileManager.default.removeItem(at: base)
    }
}
