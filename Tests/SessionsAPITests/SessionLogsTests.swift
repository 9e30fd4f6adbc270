import Artifacts
import Foundation
import Model
import Sessions
import SessionsAPI
import TestSupport
import XCTest

/// `GET …/sessions/{id}/logs` against a local cluster whose node runs the session controller's runner Pods (the
/// `script` runner): followed from the Pod while it runs, read whole, and from the stored `runner.log` (which
/// the runner uploads through the artifact route) once the Pod is gone.
final class SessionLogsTests: XCTestCase {
    func testFollowStreamsThePodsLogWhileItRunsAndTheStoredLogServesAfterThePodIsGone() throws {
        let harness = try StreamHarness(options: SessionStreams.Options(podPoll: 0.1))
        try harness.startController()
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("log-gate-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let viewer = try harness.token("val@example.com", groups: ["acme-viewers"])
        // Followed from before the session has a Pod: the endpoint waits for it.
        try harness.createSession("logged", command: "echo first line; while [ ! -e \(gate) ]; do sleep 0.05; done; echo second line")
        let follow = harness.open("/api/v1/namespaces/acme/sessions/logged/logs?follow=true", token: viewer)
        defer { follow.stop() }
        eventually("the first line is streamed while the script waits") { follow.text.contains("first line\n") }
        XCTAssertEqual(follow.status, 200)
        XCTAssertFalse(follow.ended, "the container still runs")
        XCTAssertFalse(follow.text.contains("second line"))
        XCTAssertTrue(FileManager.default.createFile(atPath: gate, contents: nil))
        eventually("the stream ends when the container does") { follow.ended }
        XCTAssertNil(follow.error)
        XCTAssertTrue(follow.text.contains("first line\nsecond line\n"), follow.text)

        try eventually("the session is Completed") { try harness.session("logged")?.status.phase == .completed }
        let whole = try harness.get("/api/v1/namespaces/acme/sessions/logged/logs", token: viewer)
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(whole.headers["content-type"], "text/plain; charset=utf-8")
        XCTAssertTrue(whole.text.contains("first line\nsecond line\n"), whole.text)

        // The runner uploaded its log; with the Pod gone, that is what is served (whole and followed).
        let key = try ArtifactKey(namespace: "acme", session: "logged", name: "runner.log")
        eventually("the runner stored its log") { (try? harness.store.list(namespace: "acme", session: "logged"))?.contains { $0.key == key } ?? false }
        let pod = try XCTUnwrap(try harness.session("logged")?.status.workload.podName)
        let podReference = ObjectReference(apiVersion: "v1", kind: "Pod", namespace: "acme", name: pod)
        _ = try harness.client.delete(podReference)
        try eventually("the Pod is gone") { try harness.client.get(podReference) == nil }
        let stored = String(decoding: try harness.store.get(key, range: nil).bytes, as: UTF8.self)
        XCTAssertTrue(stored.contains("first line\nsecond line\n"), stored)
        let afterwards = try harness.get("/api/v1/namespaces/acme/sessions/logged/logs", token: viewer)
        XCTAssertEqual(afterwards.status, 200)
        XCTAssertEqual(afterwards.text, stored)
        let followedAfter = harness.open("/api/v1/namespaces/acme/sessions/logged/logs?follow=true", token: viewer)
        eventually("a follow of a finished session ends after the stored log") { followedAfter.ended }
        XCTAssertEqual(followedAfter.text, stored)

        // Refusals: no token, another tenant's member, a session that does not exist, a bad flag.
        XCTAssertEqual(try harness.get("/api/v1/namespaces/acme/sessions/logged/logs", token: nil).status, 401)
        let stranger = try harness.token("eve@example.com", groups: ["other-team"])
        let refused = try harness.get("/api/v1/namespaces/acme/sessions/logged/logs", token: stranger)
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(try JSON(parsing: refused.text)["message"]?.stringValue,
                       "sessions.ambient.ai \"logged\" is forbidden: User \"eve@example.com\" cannot get resource \"sessions/logs\" in API group \"ambient.ai\" in the namespace \"acme\"")
        let missing = try harness.get("/api/v1/namespaces/acme/sessions/nope/logs", token: viewer)
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try JSON(parsing: missing.text)["error"], "not_found")
        XCTAssertEqual(try harness.get("/api/v1/namespaces/acme/sessions/logged/logs?follow=maybe", token: viewer).status, 400)

        let reads = try harness.audit.entries(namespace: "acme", session: "logged").filter { $0.record.resource == "sessions/logs" }
        XCTAssertEqual(reads.map(\.record.outcome).sorted(), ["denied", "succeeded", "succeeded", "succeeded", "succeeded"])
    }
}
