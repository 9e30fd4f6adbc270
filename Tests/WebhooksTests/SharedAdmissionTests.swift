import Apply
import Foundation
import HTTPClient
import LocalCluster
import Model
import Sessions
import Support
import TestSupport
import Webhooks
import XCTest

/// `serve --admission cluster`: two receivers (own journals, own processes' worth of state) on one local cluster race
/// for the last of a budget, of the concurrency limit and of the rate: the NamespacePolicy's shared ledger, written
/// by compare-and-swap, admits exactly what one receiver would.
final class SharedAdmissionTests: XCTestCase {
    static let key = "race-generic-key-aabbccddeeff00112233445566"
    /// The generic API key routing to `namespace`.
    static func key(_ namespace: String) -> String { namespace == "race" ? key : "\(key)-\(namespace)" }

    final class Receivers {
        let directory: URL
        let cluster: LocalClusterServer
        let repo: TempRepo
        let config: ClusterConfig
        var servers: [WebhookServer] = []

        /// One tenant `race` with `namespaces` (its ledger namespace is the first).
        /// `clocks[i]`: receiver i's own clock (the system's when absent).
        init(policy: String, budget: String, receivers: Int = 2, namespaces: [String] = ["race"], clocks: [@Sendable () -> Date] = []) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-admission-\(UUID().uuidString)")
            cluster = try LocalClusterServer.start(directory: directory.appendingPathComponent("cluster").path)
            repo = try TempRepo()
            try repo.write("tenants/race.yaml", """
                apiVersion: tenantry.dev/v1alpha1
                kind: Tenant
                name: race
                namespaces:
                \(namespaces.map { "  - name: \($0)\n    apiKeys:\n      generic: \(TestSecrets.hash(SharedAdmissionTests.key($0)))" }.joined(separator: "\n"))
                policy:
                  models: {allowed: [claude-sonnet-4-5]}
                  budget: {monthly: "\(budget)"}
                  tools: {allowed: [git]}
                  \(policy)
                routing:
                  github:
                    - repository: Codertocat/Hello-World
                      namespace: race
                triggers:
                  github: {issueLabels: [bug]}

                """)
            let applied = CLI.run(["apply", repo.path, "--kubeconfig", cluster.kubeconfigPath])
            guard applied.code == 0 else { throw NSError(domain: "apply", code: 1, userInfo: [NSLocalizedDescriptionKey: applied.stderr]) }
            config = try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath)
            let table = try TenantTable.load(repo: repo.path, revision: "test")
            for index in 0..<receivers {
                var options = WebhookServer.Options(journalPath: directory.appendingPathComponent("receiver-\(index).db").path,
                                                    secrets: WebhookSecrets(github: TestSecrets.github, jira: nil, slack: nil), writer: KubeSessionWriter(config: config))
                options.port = 0
                options.refreshInterval = 0
                options.maxBackoff = 0.2
                options.sharedAdmission = index < clocks.count ? ClusterAdmission(config: config, clock: clocks[index]) : ClusterAdmission(config: config)
                servers.append(try WebhookServer(options: options, table: table))
            }
        }

        deinit {
            for server in servers { server.stop() }
            cluster.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        /// `count` deliveries at once, spread over the receivers (delivery i to receiver i mod n, or to `only`) and sent
        /// to the namespace `namespace(i)`; each one's status.
        func race(_ count: Int, idempotencyKey: @escaping @Sendable (Int) -> String = { "delivery-\($0)" },
                  namespace: @escaping @Sendable (Int) -> String = { _ in "race" }, only: Int? = nil) -> [Int] {
            let statuses = LockedArray<Int>(count: count)
            let ports = only.map { [servers[$0].port] } ?? servers.map(\.port)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                let client = HTTPClient()
                let request = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(ports[index % ports.count])/api/v1/webhooks/generic",
                                          headers: [("Content-Type", "application/json"), ("X-API-Key", SharedAdmissionTests.key(namespace(index))),
                                                    ("Idempotency-Key", idempotencyKey(index))],
                                          body: JSON.object(["description": .string("race \(index)")]).compactBytes)
                statuses.set(index, (try? client.send(request))?.status ?? 0)
            }
            return statuses.values
        }

        func policy(_ namespace: String = "race") throws -> JSONObject {
            let client = KubeClient(config: config)
            return try XCTUnwrap(try client.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: namespace,
                                                                name: NamespacePolicy.objectName)))
        }

        /// The ledger kept on `namespace`'s policy (the tenant's, on its first namespace).
        func ledger(_ namespace: String = "race") throws -> SharedLedger {
            let object = try policy(namespace)
            return try SharedLedger(status: object["status"], monthly: try PolicySnapshot(object: object).budget.monthly, now: Date(), namespace: namespace)
        }

        func sessions(_ namespace: String = "race") throws -> [String] {
            try KubeSessionWriter(config: config).allSessions(namespace: namespace).compactMap { $0["metadata"]?["name"]?.stringValue }
        }
    }

    func testTwoReceiversRacingForTheLastOfABudgetNeverAdmitMoreThanItHolds() throws {
        // claude-sonnet-4-5 costs 2.50 a session: 25.00 is ten sessions; 40 deliveries race for them.
        let receivers = try Receivers(policy: "maxConcurrentSessions: 50\n  sessionsPerMinute: 60", budget: "25.00")
        let statuses = receivers.race(40)
        XCTAssertEqual(statuses.filter { $0 == 202 }.count, 10, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 403 }.count, 30, "\(statuses)")
        let ledger = try receivers.ledger()
        XCTAssertEqual(ledger.budget.reserved, Amount("25.00"))
        XCTAssertEqual(ledger.budget.remaining, Amount("0"))
        XCTAssertEqual(ledger.live.count, 10)
        // Each 202 becomes exactly one Session, and each reservation is one of them.
        try eventually("the ten Sessions exist") { try receivers.sessions().count == 10 }
        XCTAssertEqual(Set(try receivers.sessions()), Set(ledger.live.map(\.session)))
        let conflicts = receivers.servers.compactMap { $0.service.configuration.sharedAdmission?.counts.conflicts }.reduce(0, +)
        print("shared admission: 40 deliveries over 2 receivers, 10 admitted, \(conflicts) compare-and-swap conflicts retried")
    }

    func testATenantOfTwoNamespacesSpendsOneBudgetAcrossBothReceivers() throws {
        // 25.00 is ten sessions of the tenant, whichever namespace: 40 deliveries, alternating namespaces and receivers
        // (delivery i to receiver i mod 2 and namespace (i / 2) mod 2, so each receiver serves both namespaces).
        let receivers = try Receivers(policy: "maxConcurrentSessions: 50\n  sessionsPerMinute: 60", budget: "25.00", namespaces: ["race", "race-b"])
        let statuses = receivers.race(40, namespace: { ($0 / 2) % 2 == 0 ? "race" : "race-b" })
        XCTAssertEqual(statuses.filter { $0 == 202 }.count, 10, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 403 }.count, 30, "\(statuses)")
        // One ledger of record, on the first namespace; it holds both namespaces' reservations.
        let ledger = try receivers.ledger("race")
        XCTAssertEqual(ledger.budget.reserved, Amount("25.00"))
        XCTAssertEqual(ledger.live.count, 10)
        XCTAssertEqual(try PolicySnapshot(object: try receivers.policy("race-b")).ledgerNamespace, "race")
        XCTAssertEqual(try receivers.ledger("race-b").live, [], "the second namespace keeps no ledger of its own")
        XCTAssertNil(try receivers.policy("race-b")["status"]?["budget"]?.objectValue)
        try eventually("the ten Sessions exist") { try receivers.sessions("race").count + receivers.sessions("race-b").count == 10 }
        let created = Set(try receivers.sessions("race").map { "race/\($0)" } + receivers.sessions("race-b").map { "race-b/\($0)" })
        XCTAssertEqual(created, Set(ledger.live.map { "\($0.namespace)/\($0.session)" }))
        XCTAssertFalse(try receivers.sessions("race").isEmpty || receivers.sessions("race-b").isEmpty, "both namespaces admitted some: \(created)")
        // A refusal names the tenant's budget.
        let client = HTTPClient()
        let refused = try client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(receivers.servers[1].port)/api/v1/webhooks/generic",
                                                  headers: [("Content-Type", "application/json"), ("X-API-Key", SharedAdmissionTests.key("race-b")),
                                                            ("Idempotency-Key", "one-more")], body: Array(#"{"description": "one more"}"#.utf8)))
        XCTAssertEqual(refused.status, 403)
        XCTAssertTrue(String(decoding: refused.body, as: UTF8.self).contains("tenant race has 0.00 USD left of its 25.00 USD budget"),
                      String(decoding: refused.body, as: UTF8.self))
    }

    func testConcurrencyAndRateStayPerNamespaceOnTheTenantLedger() throws {
        // maxConcurrentSessions 3 in each of two namespaces: six live at once on one ledger, three per namespace.
        let receivers = try Receivers(policy: "maxConcurrentSessions: 3\n  sessionsPerMinute: 60", budget: "1000.00", namespaces: ["race", "race-b"])
        let statuses = receivers.race(24, namespace: { ($0 / 2) % 2 == 0 ? "race" : "race-b" })
        XCTAssertEqual(statuses.filter { $0 == 202 }.count, 6, "\(statuses)")
        let live = try receivers.ledger().live
        XCTAssertEqual(live.filter { $0.namespace == "race" }.count, 3)
        XCTAssertEqual(live.filter { $0.namespace == "race-b" }.count, 3)
    }

    /// GitHub's sample `event` (`issues.opened`, `issues.labeled`) about issue `number` of Codertocat/Hello-World.
    static func issue(_ event: String, number: Int) throws -> [UInt8] {
        var payload = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try WebhookFixture.sample("\(event).json"))) as? [String: Any])
        var issue = try XCTUnwrap(payload["issue"] as? [String: Any])
        issue["number"] = number
        payload["issue"] = issue
        return Array(try JSONSerialization.data(withJSONObject: payload))
    }

    func testTwoDeliveriesAboutOneIssueToTwoReceiversAdmitOneSession() throws {
        // GitHub sends `issues.opened` and `issues.labeled` for an issue opened with a label: two delivery ids, one intent.
        // For each of ten issues the two go to different receivers at once.
        let receivers = try Receivers(policy: "maxConcurrentSessions: 50\n  sessionsPerMinute: 60", budget: "1000.00")
        let ports = receivers.servers.map(\.port)
        let bodies = try (0..<10).flatMap { number in [try Self.issue("issues.opened", number: 100 + number), try Self.issue("issues.labeled", number: 100 + number)] }
        let answers = LockedArray<[String: String]>(count: bodies.count)
        DispatchQueue.concurrentPerform(iterations: bodies.count) { index in
            let body = bodies[index]
            let request = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(ports[index % 2])/api/v1/webhooks/github",
                                      headers: [("Content-Type", "application/json"), ("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", "intent-\(index)"),
                                                ("X-Hub-Signature-256", SenderVerification.githubSignature(body: body, secret: TestSecrets.github))],
                                      body: body)
            let response = try? HTTPClient().send(request)
            let json = response.flatMap { try? JSON(parsing: Data($0.body)) }
            answers.set(index, ["status": "\(response?.status ?? 0)", "session": json?["sessionId"]?.stringValue ?? "",
                                "duplicate": json?["duplicate"] == .bool(true) ? "yes" : "no"])
        }
        let all = answers.values
        XCTAssertEqual(all.map { $0["status"] }, Array(repeating: "202", count: 20), "\(all)")
        for number in 0..<10 {
            let (opened, labeled) = (all[2 * number], all[2 * number + 1])
            XCTAssertEqual(opened["session"], labeled["session"], "issue \(100 + number): one session for both deliveries")
            XCTAssertEqual([opened["duplicate"], labeled["duplicate"]].filter { $0 == "yes" }.count, 1, "issue \(100 + number): \(opened) \(labeled)")
        }
        let ledger = try receivers.ledger()
        XCTAssertEqual(ledger.live.count, 10)
        XCTAssertEqual(ledger.intents.count, 10)
        try eventually("ten Sessions, one per issue") { try receivers.sessions().count == 10 }
        XCTAssertEqual(Set(try receivers.sessions()), Set(all.compactMap { $0["session"] }))
    }

    func testConcurrencyAndRateHoldAcrossReceivers() throws {
        let concurrency = try Receivers(policy: "maxConcurrentSessions: 3\n  sessionsPerMinute: 60", budget: "1000.00")
        let admitted = concurrency.race(24).filter { $0 == 202 }.count
        XCTAssertEqual(admitted, 3)
        XCTAssertEqual(try concurrency.ledger().live.count, 3)

        let rate = try Receivers(policy: "maxConcurrentSessions: 50\n  sessionsPerMinute: 4", budget: "1000.00")
        let statuses = rate.race(24)
        XCTAssertEqual(statuses.filter { $0 == 202 }.count, 4, "\(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 429 }.count, 20, "\(statuses)")
        XCTAssertEqual(try rate.ledger().recent.count, 4)
    }

    func testReceiversWhoseClocksAreMinutesApartShareOneRateWindow() throws {
        // Receiver 0 runs five minutes behind, receiver 1 on time, receiver 2 five minutes ahead. On their own clocks,
        // 1 would find 0's admissions five minutes old and 2 would find everyone's: each would start its own minute.
        let clocks: [@Sendable () -> Date] = [{ Date().addingTimeInterval(-300) }, { Date() }, { Date().addingTimeInterval(300) }]
        let receivers = try Receivers(policy: "maxConcurrentSessions: 50\n  sessionsPerMinute: 4", budget: "1000.00", receivers: 3, clocks: clocks)
        var admitted = 0
        for receiver in 0..<3 {
            let statuses = receivers.race(6, idempotencyKey: { "skewed-\(receiver)-\($0)" }, only: receiver)
            XCTAssertEqual(statuses.count, 6)
            admitted += statuses.filter { $0 == 202 }.count
            XCTAssertTrue(statuses.allSatisfy { $0 == 202 || $0 == 429 }, "receiver \(receiver): \(statuses)")
        }
        XCTAssertEqual(admitted, 4, "one window of 4 a minute across the three receivers")
        // The entries carry the API server's time, not the receivers'.
        let ledger = try receivers.ledger()
        XCTAssertEqual(ledger.recent.count, 4)
        XCTAssertTrue(ledger.recent.allSatisfy { abs($0.at.timeIntervalSinceNow) < 30 }, "\(ledger.recent.map(\.at))")
    }

    func testARedeliveryToTheOtherReceiverReservesNothingMore() throws {
        let receivers = try Receivers(policy: "maxConcurrentSessions: 50\n  sessionsPerMinute: 60", budget: "1000.00")
        // Ten deliveries, each sent to both receivers at once (indexes 2k and 2k+1 carry the same delivery id).
        let statuses = receivers.race(20) { "delivery-\($0 / 2)" }
        XCTAssertEqual(statuses, Array(repeating: 202, count: 20))
        let ledger = try receivers.ledger()
        XCTAssertEqual(ledger.live.count, 10)
        XCTAssertEqual(ledger.budget.reserved, Amount("25.00"))
        try eventually("ten Sessions, one per delivery") { try receivers.sessions().count == 10 }
    }
}

/// Results written by concurrent iterations.
final class LockedArray<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Element) { lock.withLock { storage[index] = value } }
    var values: [Element] { lock.withLock { storage.compactMap { $0 } } }
}
