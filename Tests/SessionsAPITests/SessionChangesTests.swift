import Foundation
import Model
import Sessions
@testable import SessionsAPI
import XCTest

/// The rules that turn one Session's change into live events, without a cluster.
final class SessionChangesTests: XCTestCase {
    private func session(_ phase: Session.Phase = .pending, approval: SessionObject.ApprovalDecision? = nil, conditions: [Condition] = [],
                         artifacts: [SessionStatus.GeneratedArtifact] = []) -> SessionObject {
        SessionObject(name: "s-1", namespace: "acme", uid: "u-1", creationTimestamp: Date(timeIntervalSince1970: 1_800_000_000),
                      trigger: .init(source: .manual, event: "", payload: ["description": "Fix it\nnow"]),
                      framework: .init(type: "script", version: "0.1.0", config: ["model": "claude-sonnet-4-5"]),
                      constraints: .init(allowedModels: [], budget: nil, allowedTools: [], approvalRequired: true),
                      approval: approval, status: SessionStatus(phase: phase, conditions: conditions, artifacts: artifacts))
    }

    private func approved(_ status: Condition.Status, _ reason: String) -> Condition {
        Condition(type: Condition.approved, status: status, reason: reason, message: reason, lastTransitionTime: Date(), observedGeneration: 1)
    }

    func testEachKindOfChangeIsItsOwnEventWithTheChangesVersion() {
        XCTAssertEqual(SessionChanges.between(nil, session(), resourceVersion: 7).map(\.name), ["created"])
        XCTAssertEqual(SessionChanges.between(session(), nil, resourceVersion: 8).map(\.name), ["deleted"])
        XCTAssertEqual(SessionChanges.between(session(), session(), resourceVersion: 9), [], "a write that changes nothing we report")

        let waiting = session(conditions: [approved(.false, "AwaitingApproval")])
        let asked = SessionChanges.between(session(), waiting, resourceVersion: 10)
        XCTAssertEqual(asked.map(\.name), ["approval"])
        XCTAssertEqual(asked.first?.data["approval"]?["reason"], "AwaitingApproval")
        XCTAssertNil(asked.first?.data["approval"]?["decision"])

        let decided = session(approval: .init(decision: .approved, by: "lee@acme.example"), conditions: [approved(.false, "AwaitingApproval")])
        let decision = SessionChanges.between(waiting, decided, resourceVersion: 11)
        XCTAssertEqual(decision.map(\.name), ["approval"])
        XCTAssertEqual(decision.first?.data["approval"]?["decision"], "approved")
        XCTAssertEqual(decision.first?.data["approval"]?["by"], "lee@acme.example")

        let log = SessionStatus.GeneratedArtifact(type: .log, location: "acme/s-1/runner.log", createdAt: Date(timeIntervalSince1970: 1_800_000_100))
        let finished = session(.completed, approval: decided.approval, conditions: decided.status.conditions, artifacts: [log])
        let end = SessionChanges.between(decided, finished, resourceVersion: 12)
        XCTAssertEqual(end.map(\.name), ["phase", "artifact"])
        XCTAssertEqual(end.map(\.resourceVersion), [12, 12])
        XCTAssertEqual(end.first?.data["from"], "Pending")
        XCTAssertEqual(end.first?.data["to"], "Completed")
        XCTAssertEqual(end.last?.data["artifacts"]?.arrayValue?.count, 1)
        XCTAssertEqual(SessionChanges.between(finished, finished, resourceVersion: 13), [], "an artifact is reported once")
    }

    func testAFrameIsOneEventWhateverTheSessionSays() {
        let frame = String(decoding: SessionChanges.between(nil, session(), resourceVersion: 42)[0].frame, as: UTF8.self)
        let lines = frame.components(separatedBy: "\n")
        XCTAssertEqual(Array(lines.prefix(2)), ["id: 42", "event: created"])
        XCTAssertTrue(lines[2].hasPrefix("data: {"), frame)
        XCTAssertEqual(Array(lines.dropFirst(3)), ["", ""], "a newline in the payload is escaped in the JSON, not a new field")
        XCTAssertTrue(lines[2].contains(#""description":"Fix it\nnow""#), frame)
    }
}
