import Apply
import Foundation
import HTTPClient
import LocalCluster
import Model
import Render
import Support
import Synchronization
import Webhooks

/// `tenantry bench webhooks`: a load generator in the binary. It starts the webhook server (and, unless
/// --kubeconfig is given, a local cluster) in this process, sends signed GitHub deliveries over loopback
/// at a set rate, and reports ack latency, throughput, and sessions lost or duplicated. Figures only.
public enum WebhookBenchCommand {
    public static let usage = """
    Usage: tenantry bench webhooks [--rate N] [--duration S] [--connections C] [--redeliver F] [--tenants T]
                                   [--kubeconfig PATH | --in-memory] [--creators N] [--receivers N] [--ack-after journal|cluster]

    Sends signed GitHub `issues.labeled` deliveries to an in-process `tenantry serve` over loopback at N per
    second for S seconds from C keep-alive connections, a fraction F of them redeliveries of an earlier
    delivery, spread over T tenants. Then waits until every Session exists and reports p50/p99/max ack
    latency (request sent → 202 read), throughput, fsyncs per delivery, and sessions lost or duplicated.
    Without --kubeconfig an embedded local cluster (SQLite, plain HTTP) in a temporary directory holds them.

    Flags:
      --rate N          deliveries per second (default 1000)
      --duration S      seconds of load (default 10)
      --connections C   concurrent connections (default 32)
      --redeliver F     fraction of deliveries sent again with the same delivery id (default 0.05)
      --tenants T       tenants (namespaces) the deliveries are routed to (default 4)
      --kubeconfig PATH create the Sessions in this cluster instead
      --in-memory       create the Sessions in memory (measures the intake alone: HTTP, checks, journal fsync)
      --creators N      Session creator threads (default 4)
      --receivers N     with --ack-after: two runs on one cluster, first one receiver acking after its journal, then N
                        receivers (each its own journal, sharing only the cluster: --admission cluster), deliveries
                        round-robin over them and each redelivery to another one (default rate 300/s: 3,000 deliveries);
                        a last line compares the two runs' deliveries/s and p50/p99 ack latency
      --ack-after A     the second run's ack: cluster (once the Session is in the API server) or journal
    """

    public static func run(_ arguments: [String], stdout: @escaping @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void) throws -> Int32 {
        let args = try Arguments(arguments, valued: ["--rate", "--duration", "--connections", "--redeliver", "--tenants", "--kubeconfig", "--creators",
                                                     "--receivers", "--ack-after"],
                                 switches: ["--in-memory"])
        _ = try args.positionals(max: 0, usage: "tenantry bench webhooks [flags]")
        func number(_ flag: String, _ fallback: Double) throws(UsageError) -> Double {
            guard let text = args.value(flag) else { return fallback }
            guard let value = Double(text), value >= 0 else { throw UsageError("\(flag) needs a non-negative number, got \"\(text)\"") }
            return value
        }
        // The replicas comparison defaults to 3,000 deliveries (300/s for 10 s); the journal alone to 10,000.
        let replicas = args.value("--receivers") != nil || args.value("--ack-after") != nil
        let rate = try number("--rate", replicas ? 300 : 1000), duration = try number("--duration", 10)
        let connections = max(1, Int(try number("--connections", 32)))
        let redeliver = min(1, try number("--redeliver", 0.05))
        let tenants = max(1, Int(try number("--tenants", 4)))
        let creators = max(1, Int(try number("--creators", 4)))
        var kubeconfig = args.value("--kubeconfig")
        let inMemory = args.isSet("--in-memory")
        guard rate > 0, duration > 0 else { throw UsageError("--rate and --duration must be positive") }

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-bench-webhooks-\(getpid())")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("repo/tenants"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try writeRepo(at: work.appendingPathComponent("repo"), tenants: tenants)
        let table = try TenantTable.load(repo: work.appendingPathComponent("repo").path, revision: "bench")

        var cluster: LocalClusterServer?
        if kubeconfig == nil && !inMemory {
            var options = LocalClusterServer.Options()
            options.tls = false
            let started = try LocalClusterServer.start(directory: work.appendingPathComponent("cluster").path, options: options)
            cluster = started
            kubeconfig = started.kubeconfigPath
        }
        defer { cluster?.stop() }
        let namespaces = (0..<tenants).map { "bench-\($0)" }
        let writer: any SessionWriter
        let list: (String) throws -> [String]
        if inMemory {
            let memory = MemorySessionWriter()
            writer = memory
            list = { memory.names(namespace: $0) }
        } else {
            let kube = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: kubeconfig!))
            try prepare(kube, namespaces: namespaces)
            writer = kube
            list = { try kube.allSessions(namespace: $0).compactMap { $0["metadata"]?["name"]?.stringValue } }
        }

        let load = Load(rate: rate, duration: duration, connections: connections, redeliver: redeliver, tenants: tenants)
        let total = Int(rate * duration)
        let receivers = max(1, Int(try number("--receivers", 1)))
        var ackAfter = AckAfter.journal
        if let text = args.value("--ack-after") {
            guard let value = AckAfter(rawValue: text) else { throw UsageError("--ack-after takes journal or cluster, got \"\(text)\"") }
            ackAfter = value
        }
        if (receivers > 1 || ackAfter == .cluster) && inMemory { throw UsageError("--receivers and --ack-after cluster need a cluster: drop --in-memory") }
        let setup = Setup(work: work, table: table, writer: writer, list: list, namespaces: namespaces, creators: creators, inMemory: inMemory,
                          cluster: kubeconfig.map { try? KubeSessionWriter.config(kubeconfig: $0) } ?? nil, stderr: stderr)
        guard receivers > 1 || ackAfter == .cluster else {
            stdout("bench webhooks: \(total) deliveries at \(Int(rate))/s over \(connections) connections, \(Int(redeliver * 100))% redelivered, \(tenants) tenants\n")
            let result = try measure(setup, load, phase: "journal", receivers: 1, ackAfter: .journal, shared: false)
            stdout(result.report)
            return result.ok ? 0 : 1
        }
        // Both deployments in one run, on the same cluster: one receiver acking after its journal (the embedded
        // default), then N receivers acking once the Session is in the API server and admitting on the shared ledger.
        if let config = setup.cluster { try prepareLedgers(KubeSessionWriter(config: config), repo: work.appendingPathComponent("repo")) }
        stdout("bench webhooks: \(total) deliveries at \(Int(rate))/s over \(connections) connections, \(Int(redeliver * 100))% redelivered, \(tenants) tenants; two runs\n")
        stdout("\n1 receiver, --ack-after journal, --admission local:\n")
        let baseline = try measure(setup, load, phase: "journal", receivers: 1, ackAfter: .journal, shared: false)
        stdout(baseline.report)
        stdout("\n\(receivers) receivers, --ack-after \(ackAfter.rawValue), --admission cluster (deliveries round-robin over the receivers, redeliveries to another one):\n")
        let replicated = try measure(setup, load, phase: "replicas", receivers: receivers, ackAfter: ackAfter, shared: true)
        stdout(replicated.report)
        stdout("\ncompared: \(receivers) receivers --ack-after \(ackAfter.rawValue) \(replicated.figures) against 1 receiver --ack-after journal \(baseline.figures)\n")
        return baseline.ok && replicated.ok ? 0 : 1
    }

    struct Load: Sendable {
        var rate: Double
        var duration: Double
        var connections: Int
        var redeliver: Double
        var tenants: Int
    }

    struct Setup {
        let work: URL
        let table: TenantTable
        let writer: any SessionWriter
        let list: (String) throws -> [String]
        let namespaces: [String]
        let creators: Int
        let inMemory: Bool
        let cluster: ClusterConfig?
        let stderr: @Sendable (String) -> Void
    }

    struct Result {
        var report: String
        var ok: Bool
        /// `95 deliveries/s, ack p50 316.00 ms, p99 707.20 ms`: the line comparing the two runs.
        var figures = ""
    }

    /// One run: `receivers` in-process webhook servers (each its own journal and, with `shared`, its own ClusterAdmission:
    /// they share only the cluster), the load sent round-robin over them, then the drain and the figures.
    static func measure(_ setup: Setup, _ load: Load, phase: String, receivers count: Int, ackAfter: AckAfter, shared: Bool) throws -> Result {
        let secret = "bench-webhook-secret"
        let stderr = setup.stderr
        var servers: [WebhookServer] = []
        defer { for server in servers { server.stop() } }
        for index in 0..<count {
            var options = WebhookServer.Options(journalPath: setup.work.appendingPathComponent("journal-\(phase)-\(index).db").path,
                                                secrets: WebhookSecrets(github: secret), writer: setup.writer)
            options.port = 0
            options.refreshInterval = 0
            options.creatorWorkers = setup.creators
            options.ackAfter = ackAfter
            if shared, let cluster = setup.cluster { options.sharedAdmission = ClusterAdmission(config: cluster) }
            // Only what went wrong: a line per request would drown the figures.
            options.logRequests = false
            options.log = { _, line in if !line.hasSuffix("created") { stderr(line + "\n") } }
            servers.append(try WebhookServer(options: options, table: setup.table))
        }
        let (rate, connections, redeliver, tenants) = (load.rate, load.connections, load.redeliver, load.tenants)
        let total = Int(load.rate * load.duration)
        let template = deliveryTemplate()
        let results = Mutex([Sample](repeating: Sample(), count: total))
        let client = HTTPClient()
        let urls = servers.map { "http://127.0.0.1:\($0.port)/api/v1/webhooks/github" }
        // Issue numbers differ between runs, so no intent repeats one of the other run.
        let offset = phase == "journal" ? 0 : 1_000_000
        let start = DispatchTime.now().uptimeNanoseconds + 50_000_000
        let group = DispatchGroup()
        for connection in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var index = connection
                while index < total {
                    let due = start + UInt64(Double(index) / rate * 1e9)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if due > now { usleep(UInt32((due - now) / 1000)) }
                    // Every 1/F-th delivery repeats an earlier one's id and body, to the next receiver.
                    let every = redeliver > 0 ? max(2, Int((1 / redeliver).rounded())) : Int.max
                    let original = index % every == every - 1 && index >= every ? index - every + 1 : index
                    let body = Array(template(original % tenants, original + offset).utf8)
                    let request = HTTPRequest(method: "POST", url: urls[(original + (original == index ? 0 : 1)) % urls.count], headers: [
                        ("Content-Type", "application/json"), ("X-GitHub-Event", "issues"),
                        ("X-GitHub-Delivery", "bench-\(phase)-\(original)"),
                        ("X-Hub-Signature-256", SenderVerification.githubSignature(body: body, secret: secret)),
                    ], body: body, timeout: 30)
                    let sent = DispatchTime.now().uptimeNanoseconds
                    let response = try? client.send(request)
                    let took = DispatchTime.now().uptimeNanoseconds - sent
                    let session = response.flatMap { try? JSON(parsing: Data($0.body)) }?["sessionId"]?.stringValue
                    let sample = Sample(original: original, status: response?.status ?? 0, nanoseconds: took, session: session)
                    results.withLock { $0[index] = sample }
                    index += connections
                }
            }
            thread.start()
        }
        group.wait()
        let sendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let samples = results.withLock { $0 }

        // Drain: every accepted delivery's Session must exist.
        let drainStart = Date()
        while servers.contains(where: { $0.service.journal.depth > 0 || $0.service.creator.backlog > 0 }), Date().timeIntervalSince(drainStart) < 120 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let drainSeconds = Date().timeIntervalSince(drainStart)
        // This run's Sessions only (the cluster may hold the other run's).
        let names = Set((0..<total).map { WebhookService.sessionName(source: .github, deliveryID: "bench-\(phase)-\($0)") })
        var stored: [String: Int] = [:]
        for namespace in setup.namespaces {
            for name in try setup.list(namespace) where names.contains(name) { stored[name, default: 0] += 1 }
        }
        var byOriginal: [Int: Set<String>] = [:]
        for sample in samples where sample.status == 202 { byOriginal[sample.original, default: []].insert(sample.session ?? "") }
        let accepted = Set(byOriginal.values.flatMap { $0 })
        let lost = accepted.filter { stored[$0] == nil }.count
        let split = byOriginal.values.filter { $0.count > 1 }.count
        // A Session without a 202: its delivery was answered 503 (--ack-after cluster: not in the API server in time) or
        // not at all, and the sender would deliver it again, deduplicated. Not a duplicate; more than one object is.
        let unacknowledged = stored.keys.filter { !accepted.contains($0) }.count
        let extra = stored.values.filter { $0 > 1 }.count

        let latencies = samples.filter { $0.status == 202 }.map(\.nanoseconds).sorted()
        func percentile(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "-" }
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return String(format: "%.2f ms", Double(value) / 1e6)
        }
        var statuses: [Int: Int] = [:]
        for sample in samples { statuses[sample.status, default: 0] += 1 }
        let commits = servers.map(\.service.journal.commitStatistics).reduce((entries: UInt64(0), commits: UInt64(0))) { ($0.entries + $1.entries, $0.commits + $1.commits) }
        let ledger = servers.compactMap(\.service.configuration.sharedAdmission?.counts)
        let conflicts = ledger.isEmpty ? "" : "\nshared ledger: \(ledger.map(\.reserved).reduce(0, +)) reservations in \(ledger.map(\.writes).reduce(0, +)) writes (\(String(format: "%.1f", ledger.map(\.writeSeconds).reduce(0, +))) s in them), \(ledger.map(\.conflicts).reduce(0, +)) compare-and-swap conflicts retried"
        let report = """
        sent:        \(samples.count) in \(String(format: "%.2f", sendSeconds)) s (\(String(format: "%.0f", Double(samples.count) / sendSeconds)) deliveries/s)
        answers:     \(statuses.keys.sorted().map { "\($0 == 0 ? "no answer" : String($0)): \(statuses[$0]!)" }.joined(separator: ", "))
        ack latency: p50 \(percentile(0.50)), p99 \(percentile(0.99)), max \(latencies.last.map { String(format: "%.2f ms", Double($0) / 1e6) } ?? "-") (202s, \(ackAfter == .cluster ? "Session in the API server" : "journal fsync'd"))
        journal:     \(commits.entries) entries in \(commits.commits) commits (\(String(format: "%.1f", Double(commits.entries) / Double(max(1, commits.commits)))) per fsync)\(conflicts)
        sessions:    \(accepted.count) accepted, \(stored.count) \(setup.inMemory ? "in memory" : "in the cluster") after \(String(format: "%.2f", drainSeconds)) s of drain (\(unacknowledged) created without a 202)
        lost:        \(lost)
        duplicated:  \(split + extra) (redeliveries answered with another session: \(split); a Session stored twice: \(extra))

        """
        return Result(report: report, ok: lost == 0 && split + extra == 0,
                      figures: "\(String(format: "%.0f", Double(samples.count) / sendSeconds)) deliveries/s, ack p50 \(percentile(0.50)), p99 \(percentile(0.99))")
    }

    struct Sample: Sendable {
        var original = 0
        var status = 0
        var nanoseconds: UInt64 = 0
        var session: String?
    }

    /// An `issues.labeled` body for delivery `index` in tenant `tenant`'s repository.
    static func deliveryTemplate() -> @Sendable (Int, Int) -> String {
        { tenant, index in
            """
            {"action":"labeled","issue":{"number":\(index + 1),"title":"Bench issue \(index)","body":"Generated by tenantry bench webhooks.","user":{"login":"bench"},"labels":[{"name":"agent"}],"html_url":"https://github.com/bench/repo-\(tenant)/issues/\(index + 1)"},"label":{"name":"agent"},"repository":{"full_name":"bench/repo-\(tenant)"},"sender":{"login":"bench"}}
            """
        }
    }

    static func prepare(_ writer: KubeSessionWriter, namespaces: [String]) throws {
        for crd in clusterCRDs() { try writer.applyClusterObject(crd) }
        for namespace in namespaces {
            try writer.applyClusterObject(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            guard writer.waitUntilServed(namespace: namespace) else {
                throw SessionWriteError(retryable: false, status: nil, message: "Sessions cannot be listed in \(namespace) after 30 s; is the Session CRD served?")
            }
        }
    }

    /// The tenants' NamespacePolicies, whose status holds the shared ledger `--admission cluster` reserves on.
    static func prepareLedgers(_ writer: KubeSessionWriter, repo: URL) throws {
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(repo.path)))
        for manifest in rendered.manifests where manifest.reference.kind == NamespacePolicy.kind { try writer.applyClusterObject(manifest.object) }
    }

    /// The platform's CRDs as Render makes them.
    public static func clusterCRDs() -> [JSONObject] {
        Renderer.platformManifests().filter { $0.reference.kind == "CustomResourceDefinition" }.map(\.object)
    }

    static func writeRepo(at repo: URL, tenants: Int) throws {
        try """
        apiVersion: tenantry.dev/v1alpha1
        kind: Platform
        name: bench
        models:
          - name: bench-model
            pricing: {perSession: "0.01"}
        budget: {currency: USD, maxMonthly: "1000000.00"}
        tools: [git]
        runners:
          - type: claude-code
            image: ghcr.io/acme/runners/claude-code
            versions: ["1.5.2"]
        webhookSources: [github]
        limits: {maxConcurrentSessions: 10000, maxSessionTimeout: 24h, maxSessionsPerMinute: 100000}
        defaults:
          maxConcurrentSessions: 10000
          sessionTimeout: 2h
          sessionsPerMinute: 100000
          retention: {sessions: 90d, artifacts: 30d, auditLogs: 7y}
          quotas: {cpu: "8", memory: 16Gi, pods: 20, sessions: 100000}
          containers:
            defaultRequest: {cpu: 250m, memory: 512Mi}
            default: {cpu: "1", memory: 2Gi}
            max: {cpu: "4", memory: 8Gi}

        """.write(to: repo.appendingPathComponent("platform.yaml"), atomically: true, encoding: .utf8)
        for index in 0..<tenants {
            try """
            apiVersion: tenantry.dev/v1alpha1
            kind: Tenant
            name: bench-\(index)
            namespaces:
              - name: bench-\(index)
            policy:
              models: {allowed: [bench-model]}
              budget: {monthly: "1000000.00"}
            routing:
              github:
                - repository: bench/repo-\(index)
            triggers:
              github: {issueLabels: [agent]}

            """.write(to: repo.appendingPathComponent("tenants/bench-\(index).yaml"), atomically: true, encoding: .utf8)
        }
    }
}

/// Sessions kept in memory for `--in-memory`: every create call is counted, so a second create of one
/// name (a duplicate the journal should have prevented) shows up as an extra object.
final class MemorySessionWriter: SessionWriter, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: Int] = [:]

    func create(_ object: JSONObject) throws(SessionWriteError) -> CreateOutcome {
        let key = "\(object["metadata"]?["namespace"]?.stringValue ?? "")/\(object["metadata"]?["name"]?.stringValue ?? "")"
        lock.lock()
        defer { lock.unlock() }
        objects[key, default: 0] += 1
        return objects[key] == 1 ? .created : .alreadyExists
    }

    func liveSessions(namespace: String) throws(SessionWriteError) -> [String] { names(namespace: namespace) }

    func names(namespace: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return objects.keys.filter { $0.hasPrefix(namespace + "/") }.map { String($0.dropFirst(namespace.count + 1)) }
    }
}
