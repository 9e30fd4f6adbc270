import Foundation
import Model
import Sessions
import SessionsAPI
import TestSupport
import XCTest

/// The session index list and get answer from: in step with the cluster through its one watch.
final class SessionIndexTests: XCTestCase {
    func testTheIndexFollowsCreatesStatusWritesAndDeletes() throws {
        let harness = try StreamHarness(options: SessionStreams.Options())
        try harness.createSession("first")
        let index = SessionIndex(client: harness.client)
        index.start()
        defer { index.stop() }
        eventually("the index has listed") { index.sessions(in: "acme") != nil }
        XCTAssertEqual(index.sessions(in: "acme")?.compactMap { $0["metadata"]?["name"]?.stringValue }, ["first"])
        XCTAssertEqual(index.sessions(in: "elsewhere")?.count, 0)
        XCTAssertNotNil(index.session("acme", "nope"), "known not to exist")
        XCTAssertNil(index.session("acme", "nope")!)

        try harness.createSession("second")
        eventually("a new session is seen") { index.session("acme", "second")??["kind"]?.stringValue == Session.kind }
        try harness.setStatus("second", SessionStatus(phase: .running))
        eventually("its status write is seen") { index.session("acme", "second")??["status"]?["phase"]?.stringValue == "Running" }
        _ = try harness.client.delete(ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: "acme", name: "first"))
        eventually("the deleted one is gone") { index.sessions(in: "acme")?.count == 1 }
    }
}
