import Foundation
import Model
import XCTest
@testable import Sessions

final class SessionIntentTests: XCTestCase {
    func testAnApprovalIsWrittenOnceWhileTheSessionWaits() throws {
        let waiting = Fixture.session(namespace: "payments-prod")
        let policy = Fixture.policy("payments-prod", approval: nil)
        let patch = try SessionIntent.approval(.approved, by: "alice@acme.example", at: Fixture.created, session: waiting, policy: policy)
        XCTAssertEqual(patch, ["spec": ["approval": ["decision": "approved", "by": "alice@acme.example", "at": "2026-11-30T00:53:20Z"]]])
        XCTAssertEqual(SessionIntent.requiredVerb(approval: true), "approve")
        XCTAssertEqual(SessionIntent.requiredVerb(approval: false), "update", "the verb Access asks for a stop, which the editor role grants")

        // The patch, applied, is what the state machine reads.
        var object = Session(name: waiting.name, namespace: waiting.namespace, trigger: waiting.trigger, framework: waiting.framework,
                             constraints: waiting.constraints).object
        object.update("metadata") { $0.updateObject { $0["uid"] = "u"; $0["creationTimestamp"] = "2026-11-30T00:53:20Z" } }
        object.update("spec") { $0.updateObject { $0["approval"] = patch["spec"]?["approval"] } }
        XCTAssertEqual(try SessionObject(object: object).approval, .init(decision: .approved, by: "alice@acme.example", at: Fixture.created))

        var decided = waiting
        decided.approval = .init(decision: .rejected, by: "bob@acme.example")
        XCTAssertThrowsError(try SessionIntent.approval(.approved, by: "alice@acme.example", at: Fixture.created, session: decided, policy: policy)) {
            XCTAssertEqual("\($0)", "session payments-prod/gh-72d3162e was already rejected by bob@acme.example")
            XCTAssertEqual(($0 as? SessionIntent.Refusal)?.code, 409)
        }
        XCTAssertThrowsError(try SessionIntent.approval(.approved, by: "a", at: Fixture.created, session: Fixture.session(), policy: Fixture.policy())) {
            XCTAssertEqual("\($0)", "session payments-staging/gh-72d3162e needs no approval")
        }
        var done = waiting
        done.status.phase = .failed
        XCTAssertThrowsError(try SessionIntent.approval(.approved, by: "a", at: Fixture.created, session: done, policy: policy))
    }

    func testStopKeepsTheFirstActorAndRefusesAFinishedSession() throws {
        var session = Fixture.session()
        XCTAssertEqual(try SessionIntent.stop(by: "carol", session: session), ["spec": ["stop": true, "stoppedBy": "carol"]])
        session.stop = .init(by: "carol")
        XCTAssertEqual(try SessionIntent.stop(by: "dave", session: session)["spec"]?["stoppedBy"], "carol")
        session.status.phase = .completed
        XCTAssertThrowsError(try SessionIntent.stop(by: "dave", session: session)) {
            XCTAssertEqual("\($0)", "session payments-staging/gh-72d3162e is already Completed")
        }
    }
}
