import Dispatch
import Foundation
import HTTPClient
import LocalCluster
import Model
import Synchronization
import Support

/// `tenantry bench cluster`: server-side applies of small ConfigMaps into a fresh local cluster over
/// HTTP, then paged lists of them; prints writes/s, reads/s and the database size.
public enum ClusterBenchCommand {
    public static let usage = """
        Usage:
          tenantry bench cluster [--objects N] [--clients N] [--page-size N]
          tenantry bench cluster --jobs N [--clients N]

        Flags:
          --jobs N        run Jobs instead: up to 200 at once, then N trivial ones to completion (Pods are host processes)
          --objects N     ConfigMaps to apply (default 10000)
          --clients N     concurrent clients applying them (default 4)
          --page-size N   limit per list page (default 500)

        Starts a local cluster in a temporary directory (plain HTTP on 127.0.0.1), measures, and removes it.
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void) throws -> Int32 {
        // The dispatcher may pass the subcommand word itself (`cluster`) or only what follows it.
        let words = arguments.first == "cluster" ? Array(arguments.dropFirst()) : arguments
        if let first = words.first, ["--help", "-h", "help"].contains(first) {
            stdout(usage + "\n")
            return Tenantry.ExitCode.success
        }
        let args = try Arguments(words, valued: ["--objects", "--clients", "--page-size", "--jobs"])
        _ = try args.positionals(max: 0, usage: "tenantry bench cluster [--objects N] [--clients N] [--page-size N]")
        func count(_ flag: String, _ fallback: Int) throws(UsageError) -> Int {
            guard let text = args.value(flag) else { return fallback }
            guard let number = Int(text), number > 0 else { throw UsageError("\(flag) needs a positive number, got \"\(text)\"") }
            return number
        }
        let objects = try count("--objects", 10_000)
        let clients = try count("--clients", 4)
        let pageSize = try count("--page-size", 500)
        if args.value("--jobs") != nil { return try WorkloadBenchmark.run(jobs: try count("--jobs", 1), clients: clients, stdout: stdout, stderr: stderr) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-cluster-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = LocalClusterServer.Options()
        options.tls = false
        let server = try LocalClusterServer.start(directory: directory, options: options)
        defer { server.stop() }
        let client = BenchClient(base: server.url, token: server.token)

        let failures = FailureCount()
        let writeStart = Date()
        let (total, workers) = (objects, clients)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: total, by: workers) {
                let name = "bench-\(index)"
                let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": ["name": .string(name), "labels": ["bench": "cluster"]],
                                    "data": ["index": .string(String(index)), "payload": "small"]]
                let status = client.send("PATCH", "/api/v1/namespaces/default/configmaps/\(name)?fieldManager=bench",
                                         body: Data(object.compactText.utf8), contentType: "application/apply-patch+yaml").status
                if status != 201 { failures.add() }
            }
        }
        let writeSeconds = Date().timeIntervalSince(writeStart)

        let readStart = Date()
        var listed = 0
        var pages = 0
        var token = ""
        repeat {
            let query = "?limit=\(pageSize)" + (token.isEmpty ? "" : "&continue=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            let page = client.send("GET", "/api/v1/namespaces/default/configmaps" + query, body: nil, contentType: "application/json")
            guard page.status == 200, let json = try? JSON(parsing: page.body) else { failures.add(); break }
            listed += json["items"]?.arrayValue?.count ?? 0
            pages += 1
            token = json["metadata"]?["continue"]?.stringValue ?? ""
        } while !token.isEmpty
        let readSeconds = Date().timeIntervalSince(readStart)

        let size = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/cluster.db" + suffix)
            return total + ((attributes?[.size] as? NSNumber)?.int64Value ?? 0)
        }
        func rate(_ count: Int, _ seconds: Double) -> String { String(format: "%.0f", Double(count) / max(seconds, 0.000_001)) }
        stdout("local cluster benchmark: \(objects) ConfigMaps, \(clients) \(clients == 1 ? "client" : "clients"), pages of \(pageSize)\n")
        stdout("  writes  \(objects) server-side applies in \(String(format: "%.2f", writeSeconds)) s: \(rate(objects, writeSeconds)) writes/s\n")
        stdout("  reads   \(listed) objects in \(pages) pages in \(String(format: "%.2f", readSeconds)) s: \(rate(listed, readSeconds)) objects/s, \(rate(pages, readSeconds)) pages/s\n")
        stdout("  database \(String(format: "%.1f", Double(size) / 1_048_576)) MiB (cluster.db + WAL, synchronous=FULL)\n")
        if failures.value > 0 || listed != objects {
            stderr("error: \(failures.value) requests failed and \(listed) of \(objects) objects were listed; the figures above are not valid\n")
            return Tenantry.ExitCode.findings
        }
        return Tenantry.ExitCode.success
    }
}

/// The shared libcurl client (one connection per thread, kept alive), enough for the benchmarks.
struct BenchClient: Sendable {
    let base: String
    let token: String
    let http = HTTPClient()

    func send(_ method: String, _ path: String, body: Data?, contentType: String) -> (status: Int, body: Data) {
        let request = HTTPRequest(method: method, url: base + path,
                                  headers: [("Content-Type", contentType), ("Authorization", "Bearer \(token)")],
                                  body: body.map { Array($0) })
        guard let response = try? http.send(request) else { return (0, Data()) }
        return (response.status, Data(response.body))
    }
}

private final class FailureCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
