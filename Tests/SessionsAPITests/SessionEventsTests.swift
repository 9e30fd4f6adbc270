import Audit
import Foundation
import Model
import Sessions
import SessionsAPI
import TestSupport
import XCTest

/// `GET …/events` over HTTP against a local cluster: Sessions written through the cluster (as the intake and the
/// controller write them) reach listeners as Server-Sent Events from one shared watch.
final class SessionEventsTests: XCTestCase {
    func testASessionCreatedAfterConnectingAppearsAndAReconnectGetsOnlyNewerEvents() throws {
        let harness = try StreamHarness(options: SessionStreams.Options(heartbeat: 0.3, recheck: 60))
        try harness.createSession("before")
        let viewer = try harness.token("val@example.com", groups: ["acme-viewers"])
        let first = harness.open("/api/v1/namespaces/acme/events", token: viewer)
        let second = harness.open("/api/v1/namespaces/acme/events", token: viewer)
        defer { first.stop(); second.stop() }

        eventually("both listeners got the snapshot") { first.events.first?.name == "snapshot" && second.events.first?.name == "snapshot" }
        XCTAssertEqual(first.status, 200)
        XCTAssertTrue(first.text.hasPrefix("retry: 3000\n\n"), first.text)
        let snapshot = try XCTUnwrap(first.events.first)
        XCTAssertEqual(snapshot.data["sessions"]?.arrayValue?.compactMap { $0["id"]?.stringValue }, ["before"])
        XCTAssertEqual(snapshot.data["resourceVersion"]?.stringValue, snapshot.id)
        XCTAssertEqual(harness.feeds.watching, ["acme"], "one watch for the namespace, however many listen")

        try harness.createSession("after")
        eventually("the new session reaches both listeners") {
            first.events.contains { $0.name == "created" } && second.events.contains { $0.name == "created" }
        }
        let created = try XCTUnwrap(first.events.first { $0.name == "created" })
        XCTAssertEqual(created.data["session"]?["id"], "after")
        XCTAssertEqual(created.data["session"]?["phase"], "Pending")
        XCTAssertEqual(created.data["session"]?["description"], "Fix rounding")
        XCTAssertGreaterThan(Int64(created.id) ?? 0, Int64(snapshot.id) ?? .max)
        eventually("a heartbeat comment while nothing happens") { first.text.contains("\n: heartbeat\n\n") }
        first.stop()
        second.stop()
        eventually("both readers ended") { first.ended && second.ended }

        // While nobody listens the session runs; a listener resuming from the created event gets only what followed.
        var running = SessionStatus(phase: .running)
        running.startTime = Date()
        try harness.setStatus("after", running)
        let resumed = harness.open("/api/v1/namespaces/acme/events", token: viewer, headers: [("Last-Event-ID", created.id)])
        defer { resumed.stop() }
        eventually("the phase change after the resumed id") { resumed.events.contains { $0.name == "phase" } }
        let names = resumed.events.map(\.name)
        XCTAssertFalse(names.contains("snapshot"), "\(names)")
        XCTAssertFalse(names.contains("created"), "\(names)")
        let phase = try XCTUnwrap(resumed.events.first { $0.name == "phase" })
        XCTAssertEqual(phase.data["from"], "Pending")
        XCTAssertEqual(phase.data["to"], "Running")
        XCTAssertEqual(phase.data["session"]?["id"], "after")
        XCTAssertNotNil(phase.data["session"]?["startedAt"])

        // An artifact and the end, in one status write: two events with the change's one id.
        var done = SessionStatus(phase: .completed)
        done.artifacts = [.init(type: .log, location: "acme/after/runner.log", createdAt: Date())]
        try harness.setStatus("after", done)
        eventually("phase and artifact events") { resumed.events.contains { $0.name == "artifact" } }
        let last = resumed.events.suffix(2)
        XCTAssertEqual(last.map(\.name), ["phase", "artifact"])
        XCTAssertEqual(Set(last.map(\.id)).count, 1)
        XCTAssertEqual(last.last?.data["artifacts"]?.arrayValue?.first?["location"], "acme/after/runner.log")

        // A too-old id (or one that is not ours) starts over with the current state.
        let stale = harness.open("/api/v1/namespaces/acme/events", token: viewer, headers: [("Last-Event-ID", "1")])
        defer { stale.stop() }
        eventually("a snapshot for a too-old id") { stale.events.first?.name == "snapshot" }
        XCTAssertEqual(Set(stale.events.first?.data["sessions"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []), ["before", "after"])

        // Deleting is an event too.
        _ = try harness.client.delete(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: "acme", name: "before"))
        eventually("the deletion") { stale.events.contains { $0.name == "deleted" && $0.data["session"]?["id"] == "before" } }

        let bodies = (first.events + resumed.events + stale.events).map(\.data)
        let (code, output) = try ContractSchemas.validate(bodies, against: "SessionEvent")
        XCTAssertEqual(code, 0, output)
        XCTAssertTrue(output.contains("checked \(bodies.count) failures 0"), output)

        let subscriptions = try harness.audit.entries(namespace: "acme").filter { $0.record.resource == "sessions/events" }
        XCTAssertEqual(subscriptions.count, 4)
        XCTAssertEqual(Set(subscriptions.map(\.record.actor)), ["val@example.com"])
    }

    func testACallerWithoutWatchIsRefusedAndOneWhoLosesAccessStopsReceiving() throws {
        let harness = try StreamHarness(options: SessionStreams.Options(heartbeat: 0.2, recheck: 0.2), decisionTTL: 0.1)
        let stranger = try harness.token("eve@example.com", groups: ["other-team"])
        let refused = try harness.get("/api/v1/namespaces/acme/events", token: stranger)
        XCTAssertEqual(refused.status, 403)
        let body = try JSON(parsing: refused.text)
        XCTAssertEqual(body["error"], "forbidden")
        XCTAssertEqual(body["message"]?.stringValue,
                       "sessions.ambient.ai is forbidden: User \"eve@example.com\" cannot watch resource \"sessions\" in API group \"ambient.ai\" in the namespace \"acme\"")
        XCTAssertEqual(try harness.get("/api/v1/namespaces/acme/events", token: nil).status, 401)
        XCTAssertEqual(try harness.get("/api/v1/namespaces/Bad_Name/events", token: stranger).status, 400)
        XCTAssertEqual(try harness.audit.entries(namespace: "acme").map(\.record.outcome), ["denied"])

        // Given watch by a RoleBinding of its own, then losing it: the stream says so and ends.
        let binding: JSONObject = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                   "metadata": ["name": "eve-watches", "namespace": "acme"],
                                   "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tenantry:viewer"],
                                   "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "eve@example.com"]]]
        _ = try harness.client.create(binding)
        var listener: StreamReader?
        eventually("eve may watch once the binding is there") {
            listener?.stop()
            listener = harness.open("/api/v1/namespaces/acme/events", token: stranger)
            eventually("an answer") { listener!.status != 0 || listener!.ended }
            return listener!.status == 200
        }
        let stream = try XCTUnwrap(listener)
        defer { stream.stop() }
        eventually("the snapshot") { stream.events.first?.name == "snapshot" }
        XCTAssertFalse(stream.ended)
        _ = try harness.client.delete(ObjectReference(apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", namespace: "acme", name: "eve-watches"))
        eventually("the stream ends with a forbidden event") { stream.ended }
        let forbidden = try XCTUnwrap(stream.events.last)
        XCTAssertEqual(forbidden.name, "forbidden")
        XCTAssertEqual(forbidden.data["error"], "forbidden")
        try harness.createSession("unseen")
        XCTAssertFalse(stream.text.contains("unseen"))
    }
}
