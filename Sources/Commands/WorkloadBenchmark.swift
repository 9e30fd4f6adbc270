import Dispatch
import Foundation
import LocalCluster
import Model

/// `tenantry bench cluster --jobs N`: Jobs that really run on the local node.
/// 1. Up to 200 Jobs at once whose containers wait for a release file: time from create to Running
///    (p50, p99), how many ran at the same time, and whether every Job tracked its Pod (`active: 1`).
/// 2. N trivial Jobs (`true`) to completion under the default cap on running Pods: Jobs/s.
/// Server memory is this process's resident set (the cluster runs in it). Times to Running are
/// measured by listing the Pods twice a second, so they are accurate to about half a second.
enum WorkloadBenchmark {
    static func run(jobs: Int, clients: Int, stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void) throws -> Int32 {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-jobs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let concurrent = min(jobs, 200)
        var options = LocalClusterServer.Options()
        options.tls = false
        let defaultCap = options.maxRunningPods
        options.maxRunningPods = max(defaultCap, concurrent)
        let server = try LocalClusterServer.start(directory: directory, options: options)
        defer { server.stop() }
        let client = BenchClient(base: server.url, token: server.token)
        var problems: [String] = []

        // Phase 1: many at once.
        let release = directory + "/release"
        let waitCommand = "while [ ! -e '\(release)' ]; do sleep 0.2; done"
        let created = create(client, prefix: "hold", count: concurrent, command: ["sh", "-c", waitCommand], clients: clients)
        var runningAt: [String: Date] = [:]
        var peak = 0
        let deadline = Date().addingTimeInterval(300)
        while runningAt.count < concurrent, Date() < deadline {
            let pods = list(client, "/api/v1/namespaces/default/pods?labelSelector=bench%3Dhold")
            let now = Date()
            var running = 0
            for pod in pods where pod["status"]?["phase"]?.stringValue == "Running" {
                running += 1
                let job = pod["metadata"]?["labels"]?["job-name"]?.stringValue ?? ""
                if runningAt[job] == nil { runningAt[job] = now }
            }
            peak = max(peak, running)
            // Each look lists every Pod under the store's lock, so look twice a second, not more.
            if runningAt.count < concurrent { Thread.sleep(forTimeInterval: 0.5) }
        }
        let tracked = list(client, "/apis/batch/v1/namespaces/default/jobs?labelSelector=bench%3Dhold")
            .filter { $0["status"]?["active"] == .int(1) }.count
        if peak < concurrent { problems.append("only \(peak) of \(concurrent) Jobs were Running at once") }
        if tracked != concurrent { problems.append("\(tracked) of \(concurrent) Jobs showed active: 1 while their Pods ran") }
        FileManager.default.createFile(atPath: release, contents: Data())
        let holdDone = waitComplete(client, label: "hold", count: concurrent, until: Date().addingTimeInterval(300))
        if holdDone != concurrent { problems.append("\(holdDone) of \(concurrent) held Jobs completed after release") }
        let latencies = runningAt.compactMap { job, date in created[job].map { date.timeIntervalSince($0) } }.sorted()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }

        // Phase 2: throughput of trivial Jobs under the default cap.
        let start = Date()
        _ = create(client, prefix: "quick", count: jobs, command: ["true"], clients: clients)
        let createdIn = Date().timeIntervalSince(start)
        let completed = waitComplete(client, label: "quick", count: jobs, until: Date().addingTimeInterval(600))
        let seconds = Date().timeIntervalSince(start)
        if completed != jobs { problems.append("\(completed) of \(jobs) trivial Jobs completed") }
        let memory = residentMemory()

        stdout("local cluster Job benchmark (Pods as host processes, \(ProcessInfo.processInfo.activeProcessorCount) cores)\n")
        stdout("  at once   \(concurrent) Jobs (cap \(options.maxRunningPods)): \(peak) Running together, \(tracked) tracked active: 1; "
               + "create → Running p50 \(format(percentile(0.5))) s, p99 \(format(percentile(0.99))) s\n")
        stdout("  throughput \(jobs) trivial Jobs (cap \(defaultCap)) complete in \(format(seconds)) s: \(format(Double(completed) / max(seconds, 0.001))) Jobs/s "
               + "(created in \(format(createdIn)) s)\n")
        stdout("  server memory \(memory.current / 1024) MiB resident now, \(memory.peak / 1024) MiB peak\n")
        for problem in problems { stderr("error: \(problem); the figures above are not valid\n") }
        return problems.isEmpty ? 0 : 1
    }

    private static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Creates Jobs from several clients at once; returns when each was created.
    private static func create(_ client: BenchClient, prefix: String, count: Int, command: [String], clients: Int) -> [String: Date] {
        let times = TimeBook()
        DispatchQueue.concurrentPerform(iterations: max(1, clients)) { worker in
            for index in stride(from: worker, to: count, by: max(1, clients)) {
                let name = "\(prefix)-\(index)"
                let job: JSON = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": .string(name), "labels": ["bench": .string(prefix)]],
                                 "spec": ["backoffLimit": 0, "template": ["metadata": ["labels": ["bench": .string(prefix)]],
                                          "spec": ["restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                                   "containers": [["name": "main", "image": "bench", "command": .strings(command)]]]]]]
                let sent = Date()
                if client.send("POST", "/apis/batch/v1/namespaces/default/jobs", body: Data(job.compactText.utf8), contentType: "application/json").status == 201 {
                    times.set(name, sent)
                }
            }
        }
        return times.all
    }

    private static func list(_ client: BenchClient, _ path: String) -> [JSON] {
        let response = client.send("GET", path, body: nil, contentType: "application/json")
        return ((try? JSON(parsing: response.body))?["items"]?.arrayValue) ?? []
    }

    private static func waitComplete(_ client: BenchClient, label: String, count: Int, until deadline: Date) -> Int {
        var done = 0
        while Date() < deadline {
            done = list(client, "/apis/batch/v1/namespaces/default/jobs?labelSelector=bench%3D\(label)")
                .filter { $0["status"]?["succeeded"] == .int(1) && $0["status"]?["completionTime"] != nil }.count
            if done >= count { break }
            Thread.sleep(forTimeInterval: 1)
        }
        return done
    }

    /// VmRSS and VmHWM of a process (this one by default), in KiB.
    static func residentMemory(of process: String = "self") -> (current: Int, peak: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}

private final class TimeBook: @unchecked Sendable {
    // Unchecked: `times` is touched only with `lock` held.
    private let lock = NSLock()
    private var times: [String: Date] = [:]
    func set(_ name: String, _ date: Date) { lock.withLock { times[name] = date } }
    var all: [String: Date] { lock.withLock { times } }
}
