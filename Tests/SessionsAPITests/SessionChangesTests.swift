import Foundation
import Model
import Sessions
@testable import SessionsAPI
import XCTest

/// The rules that turn one Session's change into live events, without a cluster.
final class SessionChangesTests: XCTestCase {
    /// A Session as the cluster holds it (read through SessionView, as the feed reads the watch's objects).
    private func session(_ phase: Session.Phase = .pending, approval: SessionObject.ApprovalDecision? = nil, conditions: [Condition] = [],
                         artifacts: [SessionStatus.GeneratedArtifact] = []) -> SessionView {
        var spec: JSONObject = ["trigger": ["source": "manual", "event": "", "payload": ["description": "Fix it\nnow"]],
                                "framework": ["type": "script", "version": "0.1.0", "config": ["model": "claude-sonnet-4-5"]],
                                "policy": ["approvalRequired": true]]
        if let approval { spec["approval"] = ["decision": .string(approval.decision.rawValue), "by": .string(approval.by)] }
        let object: JSONObject = ["apiVersion": .string(Session.apiVersion), "kind": .string(Session.kind),
                                  "metadata": ["name": "s-1", "namespace": "acme", "uid": "u-1", "creationTimestamp": "2027-01-15T08:00:00Z",
                                               "annotations": [SessionView.createdByAnnotation: "sam@acme.example"]],
                                  "spec": .object(spec),
                                  "status": SessionStatus(phase: phase, conditions: conditions, artifacts: artifacts).json]
        return try! SessionView(object: object)
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
        let finished = session(.completed, approval: decided.session.approval, conditions: decided.session.status.conditions, artifacts: [log])
        let end = SessionChanges.between(decided, finished, resourceVersion: 12)
        XCTAssertEqual(end.map(\.name), ["phase", "artifact"])
        XCTAssertEqual(end.map(\.resourceVersion), [12, 12])
        XCTAssertEqual(end.first?.data["from"], "Pending")
        XCTAssertEqual(end.first?.data["to"], "Completed")
        XCTAssertEqual(end.last?.data["artifacts"]?.arrayValue?.count, 1)
        XCTAssertEqual(SessionChanges.between(finished, finished, resourceVersion: 13), [], "an artifact is reported once")
        XCTAssertEqual(end.first?.data["session"], .object(finished.summary), "every event carries the summary the list shows")
        XCTAssertEqual(end.first?.data["session"]?["createdBy"], "sam@acme.example", "who created it through the API, from the annotation")
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
