import Apply
import Foundation
import LocalCluster
import Model
import Support

/// `tenantry bench sessions`: N Sessions through the whole lifecycle on an embedded local cluster, with a
/// `tenantry controller` child process and a runner whose script exits at once.
enum SessionBenchCommand {
    static let usage = """
    Usage: tenantry bench sessions [--sessions N] [--workers W] [--creators C] [--hold] [--keep]

    Starts an embedded local cluster (its node runs up to N Pods at once), applies a one-tenant repo whose `script`
    runner exits at once, runs `tenantry controller` as a child process, and creates N Sessions as the webhook
    intake writes them (C at a time). A watch on the Sessions times each: created → Running, created → Completed.
    Prints deliveries/s (Sessions created per second), delivery → Running and → Completed p50/p99, the most Sessions
    seen Running at once, the time from the first delivery to the last Completed, and the controller's RSS (peak).
    With --hold the runners wait until all N are Running, so the count at once is N; the NamespacePolicy's
    counts are then checked against it. Figures only: nothing is asserted beyond the counts being right.

    Flags:
      --sessions N   how many (default 1000)
      --workers W    the controller's workers (default 8)
      --creators C   Sessions created at once (default 8)
      --hold         the runners wait until every Session is Running, then all are released
      --keep         keep the cluster directory and the controller's log, and print where they are
    """

    static let namespace = "bench"

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        if words.contains("--help") { console.out(usage + "\n"); return Tenantry.ExitCode.success }
        let args = try Arguments(words, valued: ["--sessions", "--workers", "--creators"], switches: ["--hold", "--keep"])
        _ = try args.positionals(max: 0, usage: "tenantry bench sessions [flags]")
        let total = try args.positive("--sessions", default: 1000), workers = try args.positive("--workers", default: 8)
        let creators = try args.positive("--creators", default: 8)
        let hold = args.isSet("--hold")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-sessions-\(getpid())").path
        let repo = directory + "/repo"
        try writeRepo(repo, sessions: total)
        var options = LocalClusterServer.Options()
        options.maxRunningPods = max(total, 16)
        options.jobBackoffSeconds = 0.1
        let server = try LocalClusterServer.start(directory: directory + "/cluster", options: options)
        defer {
            server.stop()
            if args.isSet("--keep") { console.out("kept \(directory)\n") } else { try? FileManager.default.removeItem(atPath: directory) }
        }
        let silent = Console(out: { _ in }, err: { _ in })
        let applied = Tenantry.run(["apply", repo, "--kubeconfig", server.kubeconfigPath], console: silent)
        guard applied == 0 else { throw UsageError("bench sessions: applying the bench tenant repo failed (exit \(applied))") }
        let client = KubeClient(config: try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve(), fieldManager: "bench-sessions")
        _ = try client.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "model-credentials", "namespace": .string(namespace)],
                               "stringData": ["api-key": "unused-by-script"]])

        let controller = Process()
        controller.executableURL = URL(fileURLWithPath: ControllerCommand.executablePath())
        controller.arguments = ["controller", repo, "--kubeconfig", server.kubeconfigPath, "--api-url", "http://127.0.0.1:1",
                                "--workers", String(workers)]
        FileManager.default.createFile(atPath: directory + "/controller.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/controller.log"))
        controller.standardOutput = log
        controller.standardError = log
        try controller.run()
        defer {
            kill(controller.processIdentifier, SIGTERM)
            controller.waitUntilExit()
        }
        let memory = MemorySampler(pid: controller.processIdentifier)

        let book = Timeline()
        let watching = Thread {
            do {
                let start = try client.listWithVersion(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace)
                try client.watch(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, resourceVersion: start.resourceVersion) { event in
                    switch event {
                    case .added(let object), .modified(let object):
                        book.observe(object["metadata"]?["name"]?.stringValue ?? "", phase: object["status"]?["phase"]?.stringValue ?? "Pending")
                    default: break
                    }
                    return !book.isDone(total)
                }
            } catch {
                console.err("bench sessions: the watch of Sessions failed: \(error)\n")
            }
        }
        watching.start()

        let release = directory + "/release"
        let command = hold ? "while [ ! -e '\(release)' ]; do sleep 0.2; done" : "true"
        let next = Counter()
        let created = DispatchGroup()
        for _ in 0..<creators {
            created.enter()
            Thread.detachNewThread {
                defer { created.leave() }
                while let index = next.take(below: total) {
                    let name = String(format: "bench-%05d", index)
                    book.delivered(name)
                    do { _ = try client.create(sessionObject(name, command: command)) } catch {
                        console.err("bench sessions: creating \(name): \(error)\n")
                        book.failedToCreate(name)
                    }
                }
            }
        }
        created.wait()
        let deliveryEnd = ContinuousClock.now

        var counted = ""
        if hold {
            waitUntil(timeout: 600) { book.runningNow >= total || book.finished >= total }
            counted = countsCheck(client, expectedRunning: book.runningNow)
            FileManager.default.createFile(atPath: release, contents: Data())
        }
        waitUntil(timeout: 900) { book.isDone(total) }
        let figures = book.figures(total: total, deliveryEnd: deliveryEnd)
        let peak = memory.stop()
        let cpu = cpuSeconds(controller: controller.processIdentifier)
        console.out("""
        bench sessions: \(total) sessions, controller workers \(workers), \(creators) creators\(hold ? ", held until all Running" : "")
          deliveries: \(figures.delivered) in \(seconds(figures.deliveryDuration)) s = \(String(format: "%.1f", figures.deliveriesPerSecond))/s
          delivery → Running:   \(figures.running.count) seen Running, p50 \(ms(figures.running.p50)), p99 \(ms(figures.running.p99))
          delivery → Completed: \(figures.completed.count) Completed, p50 \(ms(figures.completed.p50)), p99 \(ms(figures.completed.p99)); \(figures.failed) Failed
          first delivery → last Completed: \(seconds(figures.wholeRun)) s
          most sessions Running at once: \(figures.maxRunning)\(counted)
          controller RSS: peak \(peak.peak / 1024) MiB (sampled max \(peak.sampled / 1024) MiB)
          CPU: controller \(String(format: "%.1f", cpu.controller)) s, API server + node + bench (this process) \(String(format: "%.1f", cpu.own)) s, \
        runner processes \(String(format: "%.1f", cpu.runners)) s (\(String(format: "%.0f", cpu.runners * 1000 / Double(max(1, figures.completed.count)))) ms each)

        """)
        return figures.completed.count == total ? Tenantry.ExitCode.success : 1
    }

    /// CPU seconds (user + system) of the controller (from /proc, while it runs), of this process, and of the Pods'
    /// processes the node has reaped (its children).
    static func cpuSeconds(controller pid: Int32) -> (controller: Double, own: Double, runners: Double) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        // After the command name: utime and stime are fields 14 and 15 of the line, 12 and 13 here.
        let controller = fields.count > 13 ? ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks : 0
        func seconds(_ who: __rusage_who) -> Double {
            var usage = rusage()
            getrusage(who.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        return (controller, seconds(RUSAGE_SELF), seconds(RUSAGE_CHILDREN))
    }

    /// The Session as the webhook intake writes it, with the `script` framework.
    static func sessionObject(_ name: String, command: String) -> JSONObject {
        let session = Session(name: name, namespace: namespace,
                              trigger: .init(source: .github, event: "issues.labeled", deliveryID: UUID().uuidString, payload: ["title": "bench"]),
                              framework: .init(type: "script", version: "0.1.0", config: ["model": "bench-model", "command": .string(command)]),
                              constraints: .init(allowedModels: ["bench-model"], budget: Amount("1"), allowedTools: ["shell"], approvalRequired: false))
        var object = session.object
        object.update("metadata") { $0.updateObject { $0["annotations"] = ["tenantry.dev/estimated-cost": "0.01"] } }
        return object
    }

    /// The NamespacePolicy's counts against the watch's: what `kubectl get nspol -o yaml` would show.
    static func countsCheck(_ client: KubeClient, expectedRunning: Int) -> String {
        var last = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let policy = try? client.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace, name: "policy"))
            let running = policy?["status"]?["sessions"]?["running"]?.intValue ?? -1
            let active = policy?["status"]?["activeSessions"]?.intValue ?? -1
            last = "; NamespacePolicy status: running \(running), activeSessions \(active)"
            if running == expectedRunning, active == expectedRunning { return last + " (matches)" }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return last + " (does NOT match \(expectedRunning) after 60 s)"
    }

    static func writeRepo(_ repo: String, sessions: Int) throws {
        try FileManager.default.createDirectory(atPath: repo + "/tenants", withIntermediateDirectories: true)
        let limit = max(sessions, 50)
        try """
        apiVersion: tenantry.dev/v1alpha1
        kind: Platform
        name: bench
        models:
          - name: bench-model
            pricing: {perSession: "0.01"}
        budget: {currency: USD, maxMonthly: "1000000.00"}
        tools: [git, shell]
        reservedNamespaces: ["kube-*", default, tenantry-system]
        runners:
          - type: script
            image: ghcr.io/example/tenantry
            versions: ["0.1.0"]
            command: "true"
        webhookSources: [github]
        limits: {maxConcurrentSessions: \(limit), maxSessionTimeout: 24h, maxSessionsPerMinute: \(limit * 10)}
        defaults:
          maxConcurrentSessions: \(limit)
          sessionTimeout: 2h
          sessionsPerMinute: \(limit * 10)
          retention: {sessions: 90d, artifacts: 30d, auditLogs: 7y}
          quotas: {cpu: "\(limit)", memory: \(limit)Gi, pods: \(limit * 2), sessions: \(limit * 2)}
          containers:
            defaultRequest: {cpu: 10m, memory: 16Mi}
            default: {cpu: 100m, memory: 128Mi}
            max: {cpu: "1", memory: 1Gi}

        """.write(toFile: repo + "/platform.yaml", atomically: true, encoding: .utf8)
        try """
        apiVersion: tenantry.dev/v1alpha1
        kind: Tenant
        name: bench
        namespaces:
          - name: \(namespace)
        members:
          - user: bench@example.com
            role: admin
        policy:
          models: {allowed: [bench-model]}
          budget: {monthly: "100000.00"}
          tools: {allowed: [git, shell]}
          runner: {type: script, version: "0.1.0"}

        """.write(toFile: repo + "/tenants/bench.yaml", atomically: true, encoding: .utf8)
    }

    static func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    }

    static func seconds(_ duration: Duration) -> String { String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) }
    static func ms(_ duration: Duration?) -> String {
        guard let duration else { return "-" }
        return String(format: "%.0f ms", (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) * 1000)
    }
}

/// When each Session was delivered and first seen Running and final, and how many ran at once.
private final class Timeline: @unchecked Sendable {
    // Unchecked: every field is touched only with `lock` held.
    private let lock = NSLock()
    private var delivered: [String: ContinuousClock.Instant] = [:]
    private var running: [String: ContinuousClock.Instant] = [:]
    private var final: [String: (ContinuousClock.Instant, String)] = [:]
    private var phase: [String: String] = [:]
    private var runningCount = 0
    private var maxRunning = 0
    private var refused = 0

    func delivered(_ name: String) { lock.withLock { delivered[name] = .now } }
    func failedToCreate(_ name: String) { lock.withLock { refused += 1 } }

    func observe(_ name: String, phase next: String) {
        let now = ContinuousClock.now
        lock.withLock {
            let previous = phase[name] ?? "Pending"
            guard previous != next, final[name] == nil else { return }
            phase[name] = next
            if previous == "Running" { runningCount -= 1 }
            if next == "Running" {
                runningCount += 1
                maxRunning = max(maxRunning, runningCount)
                running[name] = running[name] ?? now
            }
            if ["Completed", "Failed", "Stopped"].contains(next) { final[name] = (now, next) }
        }
    }

    var runningNow: Int { lock.withLock { runningCount } }
    var finished: Int { lock.withLock { final.count } }
    func isDone(_ total: Int) -> Bool { lock.withLock { final.count + refused >= total } }

    struct Spread { var count: Int; var p50: Duration?; var p99: Duration? }
    struct Figures {
        var delivered: Int
        var deliveryDuration: Duration
        var deliveriesPerSecond: Double
        var running: Spread
        var completed: Spread
        var failed: Int
        var wholeRun: Duration
        var maxRunning: Int
    }

    func figures(total: Int, deliveryEnd: ContinuousClock.Instant) -> Figures {
        lock.withLock {
            let first = delivered.values.min() ?? deliveryEnd
            let took = deliveryEnd - first
            func spread(_ times: [String: ContinuousClock.Instant]) -> Spread {
                let durations = times.compactMap { name, at in delivered[name].map { at - $0 } }.sorted()
                func at(_ fraction: Double) -> Duration? { durations.isEmpty ? nil : durations[min(durations.count - 1, Int(Double(durations.count - 1) * fraction))] }
                return Spread(count: durations.count, p50: at(0.5), p99: at(0.99))
            }
            let completed = final.filter { $0.value.1 == "Completed" }.mapValues(\.0)
            let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
            return Figures(delivered: delivered.count - refused, deliveryDuration: took,
                           deliveriesPerSecond: seconds > 0 ? Double(delivered.count - refused) / seconds : 0,
                           running: spread(running), completed: spread(completed), failed: final.count - completed.count,
                           wholeRun: (final.values.map(\.0).max() ?? first) - first, maxRunning: maxRunning)
        }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(below limit: Int) -> Int? { lock.withLock { guard next < limit else { return nil }; defer { next += 1 }; return next } }
}

/// The controller's resident memory, sampled every 100 ms, and its kernel-kept peak.
private final class MemorySampler: @unchecked Sendable {
    private let lock = NSLock()
    private var sampled = 0
    private var peak = 0
    private var stopped = false

    init(pid: Int32) {
        Thread.detachNewThread { [self] in
            while !lock.withLock({ stopped }) {
                let memory = WorkloadBenchmark.residentMemory(of: String(pid))
                lock.withLock {
                    sampled = max(sampled, memory.current)
                    peak = max(peak, memory.peak)
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    /// KiB.
    func stop() -> (peak: Int, sampled: Int) {
        lock.withLock {
            stopped = true
            return (peak, sampled)
        }
    }
}
