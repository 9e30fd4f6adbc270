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

    final class Receivers {
        let directory: URL
        let cluster: LocalClusterServer
        let repo: TempRepo
        let config: ClusterConfig
        var servers: [WebhookServer] = []

        init(policy: String, budget: String, receivers: Int = 2) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-admission-\(UUID().uuidString)")
            cluster = try LocalClusterServer.start(directory: directory.appendingPathComponent("cluster").path)
            repo = try TempRepo()
            try repo.write("tenants/race.yaml", """
                apiVersion: tenantry.dev/v1alpha1
                kind: Tenant
                name: race
                namespaces:
                  - name: race
                    apiKeys:
                      generic: \(TestSecrets.hash(SharedAdmissionTests.key))
                policy:
                  models: {allowed: [claude-sonnet-4-5]}
                  budget: {monthly: "\(budget)"}
                  tools: {allowed: [git]}
                  \(policy)

                """)
            let applied = CLI.run(["apply", repo.path, "--kubeconfig", cluster.kubeconfigPath])
            guard applied.code == 0 else { throw NSError(domain: "apply", code: 1, userInfo: [NSLocalizedDescriptionKey: applied.stderr]) }
            config = try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath)
            let table = try TenantTable.load(repo: repo.path, revision: "test")
            for index in 0..<receivers {
                var options = WebhookServer.Options(journalPath: directory.appendingPathComponent("receiver-\(index).db").path,
                                                    secrets: WebhookSecrets(github: nil, jira: nil, slack: nil), writer: KubeSessionWriter(config: config))
                options.port = 0
                options.refreshInterval = 0
                options.maxBackoff = 0.2
                options.sharedAdmission = ClusterAdmission(config: config)
                servers.append(try WebhookServer(options: options, table: table))
            }
        }

        deinit {
            for server in servers { server.stop() }
            cluster.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        /// `count` deliveries at once, spread over the receivers (delivery i to receiver i mod n); each one's status.
        func race(_ count: Int, idempotencyKey: @escaping @Sendable (Int) -> String = { "delivery-\($0)" }) -> [Int] {
            let statuses = LockedArray<Int>(count: count)
            let ports = servers.map(\.port)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                let client = HTTPClient()
                let request = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(ports[index % ports.count])/api/v1/webhooks/generic",
                                          headers: [("Content-Type", "application/json"), ("X-API-Key", SharedAdmissionTests.key),
                                                    ("Idempotency-Key", idempotencyKey(index))],
                                          body: JSON.object(["description": .string("race \(index)")]).compactBytes)
                statuses.set(index, (try? client.send(request))?.status ?? 0)
            }
            return statuses.values
        }

        func policy() throws -> JSONObject {
            let client = KubeClient(config: config)
            return try XCTUnwrap(try client.get(ObjectReference(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind, namespace: "race",
                                                                name: NamespacePolicy.objectName)))
        }

        func ledger() throws -> SharedLedger {
            let object = try policy()
            return try SharedLedger(status: object["status"], monthly: try PolicySnapshot(object: object).budget.monthly, now: Date())
        }

        func sessions() throws -> [String] {
            try KubeSessionWriter(config: config).allSessions(namespace: "race").compactMap { $0["metadata"]?["name"]?.stringValue }
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
