import Dispatch
import Foundation
import HTTPClient
import LocalCluster
import Model
import Synchronization
import Support

/// `tenantry bench cluster`: creates, then server-side applies, of small ConfigMaps into a fresh local
/// cluster over HTTP, then paged lists of them; prints durable creates/s (and how many commits shared
/// each fsync), writes/s, reads/s and the database size.
public enum ClusterBenchCommand {
    public static let usage = """
        Usage:
          tenantry bench cluster [--objects N] [--clients N] [--page-size N] [--commit group|per-write]
          tenantry bench cluster --jobs N [--clients N]

        Flags:
          --jobs N        run Jobs instead: up to 200 at once, then N trivial ones to completion (Pods are host processes)
          --objects N     ConfigMaps to create, and as many to apply (default 10000)
          --clients N     concurrent clients writing them (default 16)
          --page-size N   limit per list page (default 500)
          --commit MODE   group: concurrent writers share fsyncs (the default, as the cluster runs);
                          per-write: every commit waits for its own fsync, to compare
                          Either way a write is acknowledged only once it is on disk.

        Starts a local cluster in a temporary directory (plain HTTP on 127.0.0.1), measures, and removes it.
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void) throws -> Int32 {
        // The dispatcher may pass the subcommand word itself (`cluster`) or only what follows it.
        let words = arguments.first == "cluster" ? Array(arguments.dropFirst()) : arguments
        if let first = words.first, ["--help", "-h", "help"].contains(first) {
            stdout(usage + "\n")
            return Tenantry.ExitCode.success
        }
        let args = try Arguments(words, valued: ["--objects", "--clients", "--page-size", "--commit", "--jobs"])
        _ = try args.positionals(max: 0, usage: "tenantry bench cluster [--objects N] [--clients N] [--page-size N] [--commit group|per-write]")
        func count(_ flag: String, _ fallback: Int) throws(UsageError) -> Int {
            guard let text = args.value(flag) else { return fallback }
            guard let number = Int(text), number > 0 else { throw UsageError("\(flag) needs a positive number, got \"\(text)\"") }
            return number
        }
        let objects = try count("--objects", 10_000)
        let clients = try count("--clients", 16)
        let pageSize = try count("--page-size", 500)
        let commit = args.value("--commit") ?? "group"
        guard ["group", "per-write"].contains(commit) else { throw UsageError("--commit is group or per-write, got \"\(commit)\"") }
        if args.value("--jobs") != nil { return try WorkloadBenchmark.run(jobs: try count("--jobs", 1), clients: clients, stdout: stdout, stderr: stderr) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-cluster-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = LocalClusterServer.Options()
        options.tls = false
        options.groupCommit = commit == "group"
        let server = try LocalClusterServer.start(directory: directory, options: options)
        defer { server.stop() }
        let client = BenchClient(base: server.url, token: server.token)

        let failures = FailureCount()
        let (total, workers) = (objects, clients)
        let before = server.syncCounts
        let createStart = Date()
        onThreads(workers) { worker in
            for index in stride(from: worker, to: total, by: workers) {
                let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": ["name": .string("created-\(index)"), "labels": ["bench": "create"]],
                                    "data": ["index": .string(String(index)), "payload": "small"]]
                let status = client.send("POST", "/api/v1/namespaces/default/configmaps", body: Data(object.compactText.utf8), contentType: "application/json").status
                if status != 201 { failures.add() }
            }
        }
        let createSeconds = Date().timeIntervalSince(createStart)
        let after = server.syncCounts

        let writeStart = Date()
        onThreads(workers) { worker in
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
            let query = "?labelSelector=bench%3Dcluster&limit=\(pageSize)" + (token.isEmpty ? "" : "&continue=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
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
        stdout("local cluster benchmark: \(objects) ConfigMaps, \(clients) \(clients == 1 ? "client" : "clients"), pages of \(pageSize), \(commit == "group" ? "group commit" : "one fsync per commit")\n")
        var shared = ""
        if let before, let after, after.syncs > before.syncs {
            let (commits, syncs) = (after.commits - before.commits, after.syncs - before.syncs)
            shared = String(format: " (%llu fdatasyncs, %.1f commits each)", syncs, Double(commits) / Double(syncs))
        }
        stdout("  creates \(objects) in \(String(format: "%.2f", createSeconds)) s: \(rate(objects, createSeconds)) durable creates/s\(shared)\n")
        stdout("  applies \(objects) server-side applies in \(String(format: "%.2f", writeSeconds)) s: \(rate(objects, writeSeconds)) writes/s\n")
        stdout("  reads   \(listed) objects in \(pages) pages in \(String(format: "%.2f", readSeconds)) s: \(rate(listed, readSeconds)) objects/s, \(rate(pages, readSeconds)) pages/s\n")
        stdout("  database \(String(format: "%.1f", Double(size) / 1_048_576)) MiB (cluster.db + WAL, synchronous=\(commit == "group" ? "NORMAL + shared fdatasync" : "FULL"))\n")
        if failures.value > 0 || listed != objects {
            stderr("error: \(failures.value) requests failed and \(listed) of \(objects) objects were listed; the figures above are not valid\n")
            return Tenantry.ExitCode.findings
        }
        return Tenantry.ExitCode.success
    }
}

/// Runs `body` once per worker, each on its own thread, and waits for all: every client has a request in
/// flight at once (concurrentPerform would run no more of them at a time than there are cores).
private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for worker in 0..<count {
        done.enter()
        Thread {
            body(worker)
            done.leave()
        }.start()
    }
    done.wait()
}

/// The benchmark's client: libcurl through HTTPClient, blocking on the calling thread, with kept-alive
/// connections (one per client thread at a time).
struct BenchClient: Sendable {
    let base: String
    let token: String
    let client = HTTPClient()

    func send(_ method: String, _ path: String, body: Data?, contentType: String) -> (status: Int, body: Data) {
        let request = HTTPRequest(method: method, url: base + path,
                                  headers: [("Content-Type", contentType), ("Authorization", "Bearer \(token)")],
                                  body: body.map { [UInt8]($0) })
        guard let response = try? client.send(request) else { return (0, Data()) }
        return (response.status, Data(response.body))
    }
}

private final class FailureCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
