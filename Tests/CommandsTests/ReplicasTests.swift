import Apply
import Foundation
import HTTPClient
import LocalCluster
import Model
import Sessions
import Support
import Synchronization
import TestSupport
import Webhooks
import XCTest

/// Replicas that share nothing but Kubernetes: three `tenantry serve --admission cluster --ack-after cluster`
/// processes (each its own journal) and two `tenantry controller --leader-elect` processes on one local cluster whose
/// node runs the sessions. Signed GitHub deliveries are spread over the receivers, 5 % sent again to a different
/// receiver, and one receiver is killed with SIGKILL a third of the way in (its later deliveries go to the next one,
/// as a Service would send them). Every 202 has exactly one Session; every Session is settled once and no namespace
/// spends more than its budget; no namespace ever holds more reservations or runs more pods at once than
/// `maxConcurrentSessions`.
/// 3,000 deliveries at 100 a second, as `tenantry bench webhooks --receivers 3` sends them.
final class ReplicasTests: XCTestCase {
    static let secret = "replicas-webhook-secret"
    static let namespaces = (0..<5).map { "replica-\($0)" }
    static let limit = 3
    /// A session is estimated at 0.50 (reserved until it settles) and runs at 0.05: 1.00 a month makes the budget
    /// refuse first (even namespaces), 3.00 the concurrency limit (odd ones).
    static func monthly(_ namespace: String) -> String { (Int(namespace.split(separator: "-").last!)! % 2 == 0) ? "1.00" : "3.00" }

    func writeRepo(_ repo: TempRepo) throws {
        try repo.write("platform.yaml", """
            apiVersion: tenantry.dev/v1alpha1
            kind: Platform
            name: replicas
            models:
              - name: replica-model
                pricing: {perSession: "0.50"}
            budget: {currency: USD, maxMonthly: "1000.00"}
            tools: [git]
            runners:
              - type: script
                image: ghcr.io/acme/runners/tenantry
                versions: ["0.1.0"]
                command: 'echo ''{"type":"usage","inputTokens":10,"outputTokens":5,"cost":"0.05"}''; echo done'
            webhookSources: [github]
            limits: {maxConcurrentSessions: 50, maxSessionTimeout: 24h, maxSessionsPerMinute: 1000}
            defaults:
              maxConcurrentSessions: \(Self.limit)
              sessionTimeout: 1h
              sessionsPerMinute: 1000
              retention: {sessions: 90d, artifacts: 30d, auditLogs: 7y}
              quotas: {cpu: "8", memory: 16Gi, pods: 50, sessions: 100000}
              containers:
                defaultRequest: {cpu: 100m, memory: 128Mi}
                default: {cpu: 250m, memory: 256Mi}
                max: {cpu: "1", memory: 1Gi}

            """)
        for (index, namespace) in Self.namespaces.enumerated() {
            try repo.write("tenants/\(namespace).yaml", """
                apiVersion: tenantry.dev/v1alpha1
                kind: Tenant
                name: \(namespace)
                namespaces:
                  - name: \(namespace)
                policy:
                  models: {allowed: [replica-model]}
                  budget: {monthly: "\(Self.monthly(namespace))"}
                  tools: {allowed: [git]}
                  runner: {type: script, version: "0.1.0"}
                routing:
                  github:
                    - repository: bench/repo-\(index)
                triggers:
                  github: {issueLabels: [agent]}

                """)
        }
    }

    struct Answer: Sendable {
        var delivery = 0
        var status = 0
        var session: String?
        var rule: String?
    }

    func testThreeReceiversAndTwoControllersShareOnlyTheCluster() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("replicas-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let cluster = try LocalClusterServer.start(directory: base.appendingPathComponent("cluster").path)
        defer { cluster.stop() }
        let repo = try TempRepo()
        try writeRepo(repo)
        let applied = CLI.run(["apply", repo.path, "--kubeconfig", cluster.kubeconfigPath])
        XCTAssertEqual(applied.code, 0, applied.stderr)
        let admin = KubeClient(config: try Kubeconfig.load(paths: [cluster.kubeconfigPath]).resolve())
        // The triggers' repositories, cloned by each runner from a local origin (loopback only).
        let seed = base.appendingPathComponent("seed")
        try FileManager.default.createDirectory(at: seed, withIntermediateDirectories: true)
        try Data("# replica\n".utf8).write(to: seed.appendingPathComponent("README.md"))
        try FileManager.default.createDirectory(at: base.appendingPathComponent("git/bench"), withIntermediateDirectories: true)
        for (index, namespace) in Self.namespaces.enumerated() {
            try GitCLI.publish(seed, as: base.appendingPathComponent("git/bench/repo-\(index).git"), work: base.appendingPathComponent("work-\(index)"))
            _ = try admin.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "model-credentials", "namespace": .string(namespace)],
                                  "stringData": ["api-key": "unused-by-script"]])
        }
        let secretFile = base.appendingPathComponent("github-secret")
        try Data(Self.secret.utf8).write(to: secretFile)

        let controllers = try (0..<2).map { index in
            try ServeProcess(arguments: ["controller", repo.path, "--kubeconfig", cluster.kubeconfigPath, "--leader-elect", "--leader-elect-namespace", "default",
                                         "--git-base-url", base.appendingPathComponent("git").path, "--quiet"],
                             environment: ["POD_NAME": "controller-\(index)"], stderrPath: base.appendingPathComponent("controller-\(index).log").path)
        }
        defer { for controller in controllers { _ = controller.terminate() } }
        let receivers = try (0..<3).map { index in
            try ServeProcess(arguments: ["serve", repo.path, "--admission", "cluster", "--ack-after", "cluster", "--kubeconfig", cluster.kubeconfigPath,
                                         "--port", "0", "--quiet", "--refresh-interval", "1", "--secret-file", "github=\(secretFile.path)",
                                         "--journal", base.appendingPathComponent("receiver-\(index).db").path],
                             stderrPath: base.appendingPathComponent("receiver-\(index).log").path)
        }
        defer { for receiver in receivers { _ = receiver.terminate() } }

        // Pods running and reservations held at once, per namespace, sampled while the deliveries go on.
        let most = Mutex([String: Int]())
        let sampling = Atomic(true)
        let sampler = Thread {
            while sampling.load(ordering: .acquiring) {
                for namespace in Self.namespaces {
                    let running = ((try? admin.list(apiVersion: "v1", kind: "Pod", namespace: namespace)) ?? [])
                        .filter { $0["status"]?["phase"]?.stringValue == "Running" }.count
                    let policy = try? admin.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace,
                                                                name: NamespacePolicy.objectName))
                    let live = (policy ?? nil)?["status"]?["admission"]?["live"]?.arrayValue?.count ?? 0
                    most.withLock { $0[namespace] = max($0[namespace] ?? 0, running, live) }
                }
            }
        }
        sampler.start()

        let total = 3000, every = 20  // every 20th is a redelivery of the one before it (5 %), to another receiver
        let killAt = total / 3
        let killed = Atomic(false)
        let answers = Mutex([Answer](repeating: Answer(), count: total))
        let next = Atomic(0)
        let ports = receivers.map(\.port)
        // 100 deliveries a second for 30 s, so sessions finish and free their slots while the burst goes on: the budget,
        // not only the concurrency limit, is reached.
        let rate = 100.0
        let start = Date()
        let group = DispatchGroup()
        for _ in 0..<32 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let client = HTTPClient()
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < total else { return }
                    let due = start.addingTimeInterval(Double(index) / rate).timeIntervalSinceNow
                    if due > 0 { usleep(UInt32(due * 1_000_000)) }
                    if index == killAt, !killed.exchange(true, ordering: .acquiringAndReleasing) { receivers[0].kill9() }
                    let redelivery = index % every == every - 1
                    let delivery = redelivery ? index - 1 : index
                    var target = (index + (redelivery ? 1 : 0)) % ports.count
                    if target == 0, killed.load(ordering: .acquiring) { target = 1 }
                    let body = Array(Self.delivery(delivery).utf8)
                    let request = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(ports[target])/api/v1/webhooks/github", headers: [
                        ("Content-Type", "application/json"), ("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", "replica-\(delivery)"),
                        ("X-Hub-Signature-256", SenderVerification.githubSignature(body: body, secret: Self.secret)),
                    ], body: body, timeout: 30)
                    let response = try? client.send(request)
                    let json = response.flatMap { try? JSON(parsing: Data($0.body)) }
                    let answer = Answer(delivery: delivery, status: response?.status ?? 0, session: json?["sessionId"]?.stringValue,
                                        rule: json?["details"]?["rule"]?.stringValue)
                    answers.withLock { $0[index] = answer }
                }
            }
        }
        group.wait()
        let all = answers.withLock { $0 }
        var statuses: [Int: Int] = [:]
        var rules: [String: Int] = [:]
        for answer in all {
            statuses[answer.status, default: 0] += 1
            if let rule = answer.rule { rules[rule, default: 0] += 1 }
        }
        print("replicas: \(total) deliveries over 3 receivers (one killed -9 at \(killAt)), answers \(statuses.sorted { $0.key < $1.key }), refused by \(rules.sorted { $0.key < $1.key })")

        // Every 202 has its Session, at once (--ack-after cluster), and one delivery is one Session.
        let accepted = all.filter { $0.status == 202 }
        XCTAssertGreaterThan(accepted.count, 0)
        var sessionsOfDelivery: [Int: Set<String>] = [:]
        for answer in accepted { sessionsOfDelivery[answer.delivery, default: []].insert(answer.session ?? "") }
        XCTAssertEqual(sessionsOfDelivery.values.filter { $0.count != 1 }.count, 0, "a delivery answered with two sessions")
        var stored: [String: String] = [:]
        for namespace in Self.namespaces {
            for object in try admin.list(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace) {
                stored[object["metadata"]?["name"]?.stringValue ?? ""] = namespace
            }
        }
        let missing = Set(accepted.compactMap(\.session)).filter { stored[$0] == nil }
        XCTAssertEqual(missing, [], "a 202 without its Session")

        // Budget: every Session settled once (spent is the sum of the actual costs), nothing left reserved, never more
        // spent than the month's budget; and no namespace ever ran more at once than maxConcurrentSessions.
        try eventually("every Session finishes") {
            try Self.namespaces.allSatisfy { namespace in
                try admin.list(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace)
                    .allSatisfy { ["Completed", "Failed", "Stopped"].contains($0["status"]?["phase"]?.stringValue ?? "") }
            }
        }
        sampling.store(false, ordering: .releasing)
        while sampler.isExecuting { usleep(10_000) }
        for namespace in Self.namespaces {
            let monthly = Amount(Self.monthly(namespace))!
            let actual = try admin.list(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace)
                .compactMap { $0["status"]?["cost"]?["actual"]?.stringValue.flatMap(Amount.init)?.micros }.reduce(0, +)
            let policy = try XCTUnwrap(try admin.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind,
                                                                     namespace: namespace, name: NamespacePolicy.objectName)))
            let ledger = try SharedLedger(status: policy["status"], monthly: monthly, now: Date(), namespace: namespace)
            XCTAssertEqual(ledger.budget.spent.micros, actual, "\(namespace): settled once each")
            // Left reserved only: what the killed receiver reserved and never journaled (no Session has it; the
            // receivers give it back after the orphan grace period, 5 minutes).
            let orphans = ledger.live.filter { stored[$0.session] == nil }
            XCTAssertEqual(ledger.live.count, orphans.count, "\(namespace): a finished Session still holds a reservation")
            XCTAssertEqual(ledger.budget.reserved.micros, orphans.map(\.cost.micros).reduce(0, +), namespace)
            XCTAssertLessThanOrEqual(actual, monthly.micros, "\(namespace): overspent")
            XCTAssertLessThanOrEqual(most.withLock { $0[namespace] ?? 0 }, Self.limit, "\(namespace): more pods or reservations at once than maxConcurrentSessions")
        }
        let completed = stored.count
        print("replicas: \(accepted.count) answered 202, \(completed) Sessions, most pods or reservations at once per namespace \(most.withLock { $0 }.sorted { $0.key < $1.key }.map(\.value))")
        XCTAssertEqual(try admin.list(apiVersion: "batch/v1", kind: "Job", namespace: nil).count, completed, "one Job per Session")
    }

    static func delivery(_ index: Int) -> String {
        let tenant = index % namespaces.count
        return """
        {"action":"labeled","issue":{"number":\(index + 1),"title":"Replica issue \(index)","body":"replicas test","user":{"login":"bench"},"labels":[{"name":"agent"}],"html_url":"https://github.com/bench/repo-\(tenant)/issues/\(index + 1)"},"label":{"name":"agent"},"repository":{"full_name":"bench/repo-\(tenant)","name":"repo-\(tenant)","owner":{"login":"bench"}},"sender":{"login":"bench"}}
        """
    }
}
