import Foundation
import Model
import XCTest
@testable import Sessions

final class SessionObjectTests: XCTestCase {
    private func object(_ edit: (inout JSONObject) -> Void = { _ in }) -> JSONObject {
        let session = Session(name: "gh-1", namespace: "payments-staging",
                              trigger: .init(source: .github, event: "issues.labeled", deliveryID: "d-1", payload: ["repository": "acme/api"]),
                              framework: .init(type: "claude-code", version: "1.5.2", config: ["model": "claude-opus-4-1"]),
                              constraints: .init(allowedModels: ["claude-opus-4-1"], budget: Amount("5000"), allowedTools: ["git"], approvalRequired: true))
        var object = session.object
        object.update("metadata") { $0.updateObject { metadata in
            metadata["uid"] = "u-1"
            metadata["generation"] = 3
            metadata["creationTimestamp"] = "2026-11-30T00:53:20Z"
        } }
        object.update("spec") { $0.updateObject { edit(&$0) } }
        return object
    }

    func testASessionReadsBackWithItsIntents() throws {
        let parsed = try SessionObject(object: object { spec in
            spec["stop"] = true
            spec["stoppedBy"] = "carol@acme.example"
            spec["approval"] = ["decision": "approved", "by": "alice@acme.example", "at": "2026-11-30T01:00:00Z"]
        })
        XCTAssertEqual(parsed.name, "gh-1")
        XCTAssertEqual(parsed.generation, 3)
        XCTAssertEqual(parsed.creationTimestamp, Date(timeIntervalSince1970: 1_796_000_000))
        XCTAssertEqual(parsed.model(defaultModel: "x"), "claude-opus-4-1")
        XCTAssertEqual(parsed.constraints.budget, Amount("5000"))
        XCTAssertTrue(parsed.constraints.approvalRequired)
        XCTAssertEqual(parsed.stop, .init(by: "carol@acme.example"))
        XCTAssertEqual(parsed.approval?.decision, .approved)
        XCTAssertEqual(parsed.approval?.at, Date(timeIntervalSince1970: 1_796_000_000 + 400))
        XCTAssertEqual(parsed.status, SessionStatus())
        XCTAssertNil(try SessionObject(object: object { $0["stop"] = false }).stop)
    }

    func testMalformedSessionsAreRefusedWithTheField() {
        let cases: [(JSONObject, String)] = [
            (object { $0["approval"] = ["decision": "maybe", "by": "x"] }, "spec.approval.decision: Unsupported value: \"maybe\""),
            (object { $0["approval"] = ["decision": "approved"] }, "spec.approval.by: Required value"),
            (object { $0["framework"] = ["version": "1"] }, "spec.framework.type: Required value"),
            (object { $0["trigger"] = ["source": "email"] }, "spec.trigger.source: Unsupported value"),
            (object { $0["policy"] = ["modelConstraints": ["budget": "lots"]] }, "spec.policy.modelConstraints.budget: Invalid value"),
        ]
        for (object, expected) in cases {
            XCTAssertThrowsError(try SessionObject(object: object)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        var noUID = object()
        noUID.update("metadata") { $0.updateObject { $0["uid"] = nil } }
        XCTAssertThrowsError(try SessionObject(object: noUID)) { XCTAssertEqual("\($0)", "Session: metadata.uid: Required value") }
    }

    func testJobsAndPodsAreReadAsTheClusterWritesThem() throws {
        let job = ObservedJob(object: try JSON(parsing: """
        {"metadata":{"name":"gh-1-run","ownerReferences":[{"apiVersion":"ambient.ai/v1alpha1","kind":"Session","name":"gh-1","uid":"u-1","controller":true}]},
         "status":{"failed":1,"conditions":[{"type":"FailureTarget","status":"True","reason":"DeadlineExceeded"},
                                           {"type":"Failed","status":"True","reason":"DeadlineExceeded","message":"Job was active longer than specified deadline"}]}}
        """).objectValue!)
        XCTAssertEqual(job, ObservedJob(name: "gh-1-run", ownerUID: "u-1", failed: 1, failedReason: "DeadlineExceeded",
                                        failedMessage: "Job was active longer than specified deadline"))
        let pod = ObservedPod(object: try JSON(parsing: """
        {"metadata":{"name":"gh-1-run-abcde"},"status":{"phase":"Failed","startTime":"2026-11-30T00:54:00Z",
         "containerStatuses":[{"name":"runner","state":{"terminated":{"reason":"OOMKilled","exitCode":137,"message":"{}"}}}]}}
        """).objectValue!)
        XCTAssertEqual(pod.phase, .failed)
        XCTAssertEqual(pod.terminatedReason, "OOMKilled")
        XCTAssertEqual(pod.exitCode, 137)
        XCTAssertEqual(pod.startTime, Date(timeIntervalSince1970: 1_796_000_040))
        let waiting = ObservedPod(object: try JSON(parsing: """
        {"metadata":{"name":"p"},"status":{"phase":"Pending","containerStatuses":[{"name":"runner","state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off"}}}]}}
        """).objectValue!)
        XCTAssertEqual(waiting.waitingReason, "ImagePullBackOff")
    }

    func testTheNewestPodOfARetriedJobIsTheOneObserved() throws {
        func pod(_ name: String, _ created: String, _ phase: String) -> JSONObject {
            ["metadata": ["name": .string(name), "creationTimestamp": .string(created)], "status": ["phase": .string(phase)]]
        }
        let newest = ObservedPod.newest(of: [pod("run-b", "2026-11-30T01:00:00Z", "Running"), pod("run-a", "2026-11-30T00:55:00Z", "Failed"),
                                             pod("run-c", "2026-11-30T00:58:00Z", "Failed")])
        XCTAssertEqual(newest?.name, "run-b")
        XCTAssertEqual(newest?.phase, .running)
        XCTAssertNil(ObservedPod.newest(of: []))
    }

    func testEventsNameTheSessionAsInvolvedObject() {
        let session = Fixture.session()
        let event = SessionEvent(.warning, "Timeout", "too slow").object(for: session, now: Fixture.created)
        XCTAssertEqual(event["involvedObject"]?["kind"], "Session")
        XCTAssertEqual(event["involvedObject"]?["uid"], .string(session.uid))
        XCTAssertEqual(event["type"], "Warning")
        XCTAssertTrue(event["metadata"]?["name"]?.stringValue?.hasPrefix("gh-72d3162e.") == true)
        XCTAssertEqual(event["lastTimestamp"], "2026-11-30T00:53:20Z")
    }
}
