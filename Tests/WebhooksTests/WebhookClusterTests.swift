import Commands
import Foundation
import HTTPClient
import TestKit
import LocalCluster
import Model
import Webhooks
import XCTest

/// Sessions created for real in the local cluster (Kubernetes API over HTTPS with the kubeconfig's token),
/// the cluster down then up, and `tenantry serve` killed with SIGKILL between the 202 and the Session.
final class WebhookClusterTests: XCTestCase {
    static let namespaces = ["hello-prod", "hello-staging", "support-agents", "octo", "ratey", "tight", "budget"]

    /// A local cluster in a fresh directory with the platform CRDs and the test tenants' namespaces.
    private func startCluster(directory: String, port: UInt16 = 0, prepare: Bool = true) throws -> LocalClusterServer {
        let cluster = try LocalClusterServer.start(directory: directory, port: port)
        if prepare {
            let writer = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath))
            for crd in WebhookBenchCommand.clusterCRDs() { try writer.applyClusterObject(crd) }
            for namespace in Self.namespaces {
                try writer.applyClusterObject(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
                XCTAssertTrue(writer.waitUntilServed(namespace: namespace))
            }
        }
        return cluster
    }

    private func temporaryDirectory(_ prefix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    }

    func testSessionsAreCreatedInTheClusterAndTheReceiverWritesNoStatus() throws {
        let directory = temporaryDirectory("wh-cluster")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = try startCluster(directory: directory)
        defer { cluster.stop() }
        let writer = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath))
        let fixture = try WebhookFixture(writer: writer)

        let response = try fixture.jira(body: WebhookDeliveryTests.jiraBody(changelog: [["field": "labels", "fromString": "", "toString": "agent"]]),
                                        delivery: "jira-cluster-1")
        XCTAssertEqual(response.status, 202, response.text)
        let name = WebhookService.sessionName(source: .jira, deliveryID: "jira-cluster-1")
        fixture.eventually("the journal entry is done") { fixture.server.service.journal.entryState(session: name) == .done }
        let stored = try writer.allSessions(namespace: "support-agents")
        XCTAssertEqual(stored.count, 1)
        let session = stored[0]
        XCTAssertEqual(session["metadata"]?["name"]?.stringValue, name)
        XCTAssertEqual(session["metadata"]?["labels"]?["ambient.ai/approval"], "pending")
        XCTAssertEqual(session["spec"]?["trigger"]?["deliveryId"], "jira-cluster-1")
        // No status, even for an approval tenant: the session controller (none runs here) is its one writer.
        XCTAssertNil(session["status"], "\(session)")
        XCTAssertEqual(session["metadata"]?["managedFields"]?.arrayValue?.filter { $0["subresource"] == "status" }, [])

        // Concurrency is counted from the cluster: a Completed session no longer counts.
        XCTAssertEqual(try writer.liveSessions(namespace: "support-agents"), [name])
        try writer.setPhase(namespace: "support-agents", name: name, phase: .completed)
        XCTAssertEqual(try writer.liveSessions(namespace: "support-agents"), [])
        // Creating the same object again is AlreadyExists, which counts as done.
        XCTAssertEqual(try writer.create(session), .alreadyExists)
    }

    func testWhileTheClusterIsDownDeliveriesAreAcceptedAndBecomeSessionsWhenItReturns() throws {
        let directory = temporaryDirectory("wh-down")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var cluster = try startCluster(directory: directory)
        let port = cluster.port
        let writer = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath))
        cluster.stop()

        let fixture = try WebhookFixture(writer: writer)
        var names: [String] = []
        for index in 0..<5 {
            let response = try fixture.github("issues", body: try labeledIssue(100 + index), delivery: "down-\(index)")
            XCTAssertEqual(response.status, 202, response.text)
            names.append(response.json["sessionId"]?.stringValue ?? "")
            if index > 0 {
                // Once an attempt has failed, new deliveries are answered "queued".
                fixture.eventually("the creator noticed the cluster is down") { !fixture.server.service.creator.healthy }
            }
        }
        let queued = try fixture.github("issues", body: try labeledIssue(105), delivery: "down-5")
        XCTAssertEqual(queued.json["status"], "queued")
        names.append(queued.json["sessionId"]?.stringValue ?? "")
        XCTAssertEqual(fixture.server.service.journal.depth, 6)

        cluster = try startCluster(directory: directory, port: port, prepare: false)
        defer { cluster.stop() }
        fixture.eventually("every Session exists") { fixture.server.service.journal.depth == 0 }
        let stored = Set(try writer.allSessions(namespace: "hello-prod").compactMap { $0["metadata"]?["name"]?.stringValue })
        XCTAssertEqual(stored, Set(names))
        XCTAssertEqual(fixture.server.service.creator.healthy, true)
    }

    /// `tenantry serve` runs as a child process built from this package. The cluster is down while it accepts a
    /// delivery, so the 202 is answered (journal fsync'd) and no Session can exist yet; then it is killed with
    /// SIGKILL. Restarted with the cluster up, it replays the entry: exactly one Session, and a redelivery
    /// returns the same sessionId.
    func testKillNineAfterTheAckReplaysOnRestartIntoExactlyOneSession() throws {
        let directory = temporaryDirectory("wh-kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let clusterDirectory = directory + "/cluster"
        var cluster = try startCluster(directory: clusterDirectory)
        let clusterPort = cluster.port
        let kubeconfig = cluster.kubeconfigPath
        cluster.stop()

        let repo = try TestRepo.make()
        let secretFile = directory + "/github.secret"
        try (TestSecrets.github + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        let arguments = ["serve", repo.path, "--port", "0", "--journal", directory + "/journal.db", "--kubeconfig", kubeconfig,
                         "--secret-file", "github=" + secretFile, "--refresh-interval", "0"]

        var child = try ServeProcess(arguments: arguments)
        let client = HTTPClient()
        let body = try WebhookFixture.sample("issues.labeled.json")
        func deliver(_ port: UInt16) throws -> HTTPResponse {
            try client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/api/v1/webhooks/github", headers: [
                ("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", "kill-nine-1"),
                ("X-Hub-Signature-256", SenderVerification.githubSignature(body: body, secret: TestSecrets.github))], body: body))
        }
        let first = try deliver(child.port)
        XCTAssertEqual(first.status, 202, first.text)
        let name = WebhookService.sessionName(source: .github, deliveryID: "kill-nine-1")
        XCTAssertEqual(first.json["sessionId"]?.stringValue, name)
        let metrics = try client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(child.port)/metrics"))
        XCTAssertTrue(metrics.text.contains("tenantry_webhook_journal_depth 1"), metrics.text)
        child.kill9()

        cluster = try startCluster(directory: clusterDirectory, port: clusterPort, prepare: false)
        defer { cluster.stop() }
        let writer = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: kubeconfig))
        XCTAssertEqual(try writer.allSessions(namespace: "hello-prod").count, 0, "no Session before the restart")

        child = try ServeProcess(arguments: arguments)
        XCTAssertTrue(child.firstLine.contains("1 journal entries replayed"), child.firstLine)
        try eventually("the replayed delivery's Session is created") { try !writer.allSessions(namespace: "hello-prod").isEmpty }
        let again = try deliver(child.port)
        XCTAssertEqual(again.json["sessionId"]?.stringValue, name)
        XCTAssertEqual(again.json["duplicate"], .bool(true))
        let sessions = try writer.allSessions(namespace: "hello-prod")
        XCTAssertEqual(sessions.compactMap { $0["metadata"]?["name"]?.stringValue }, [name])

        // SIGTERM stops it gracefully with exit code 0.
        XCTAssertEqual(child.terminate(), 0)
    }
}

/// `--ack-after cluster`: the 202 means the Session is in the API server; while it cannot be, 503 with Retry-After.
final class AckAfterClusterTests: XCTestCase {
    func testTheSessionExistsWhenThe202IsSentAndADownClusterGets503() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wh-ack-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var cluster = try LocalClusterServer.start(directory: directory)
        let port = cluster.port
        let writer = KubeSessionWriter(config: try KubeSessionWriter.config(kubeconfig: cluster.kubeconfigPath))
        for crd in WebhookBenchCommand.clusterCRDs() { try writer.applyClusterObject(crd) }
        try writer.applyClusterObject(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "hello-prod"]])
        XCTAssertTrue(writer.waitUntilServed(namespace: "hello-prod"))
        let fixture = try WebhookFixture(writer: writer, ackAfter: .cluster, clusterAckTimeout: 1)

        let answered = try fixture.github("issues", body: try labeledIssue(1), delivery: "ack-1")
        XCTAssertEqual(answered.status, 202, answered.text)
        let name = try XCTUnwrap(answered.json["sessionId"]?.stringValue)
        // No waiting: at the moment of the 202 the Session is stored.
        XCTAssertEqual(try writer.allSessions(namespace: "hello-prod").compactMap { $0["metadata"]?["name"]?.stringValue }, [name])

        cluster.stop()
        let down = try fixture.github("issues", body: try labeledIssue(2), delivery: "ack-2")
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertEqual(down.headers.first { $0.key.lowercased() == "retry-after" }?.value, "5")
        let pending = try XCTUnwrap(down.json["details"]?["sessionId"]?.stringValue)
        XCTAssertEqual(fixture.server.service.journal.entryState(session: pending), .pending, "kept in the journal")

        cluster = try LocalClusterServer.start(directory: directory, port: port)
        defer { cluster.stop() }
        // The sender redelivers: deduplicated, and answered 202 once the Session exists.
        let again = try fixture.github("issues", body: try labeledIssue(2), delivery: "ack-2")
        XCTAssertEqual(again.status, 202, again.text)
        XCTAssertEqual(again.json["duplicate"], true)
        XCTAssertEqual(Set(try writer.allSessions(namespace: "hello-prod").compactMap { $0["metadata"]?["name"]?.stringValue }), [name, pending])
    }
}
