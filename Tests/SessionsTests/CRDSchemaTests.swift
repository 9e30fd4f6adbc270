import Foundation
import Model
import TestSupport
import XCTest
@testable import Sessions

/// What the controller writes (status) and what users write (stop, approval) against the Session CRD Tenantry
/// renders, and the ledger against the NamespacePolicy CRD.
final class CRDSchemaTests: XCTestCase {
    private func crd(_ name: String) -> JSONObject {
        Fixture.rendered.platformManifests.first { $0.reference.name == name }!.object
    }

    private func validate(_ object: JSONObject, against crd: JSONObject, broken: JSONObject) throws {
        XCTAssertEqual(try CRDSchema.check(object, broken: broken, against: crd), "ok")
    }

    func testTheStatusTheMachineWritesAndTheIntentsUsersWriteFitTheSessionCRD() throws {
        var session = Fixture.session()
        session = Fixture.applying(SessionMachine.reconcile(Fixture.input(session)), to: session)
        let pod = ObservedPod(name: Fixture.podName, phase: .succeeded, terminatedReason: "Completed", exitCode: 0,
                              terminationMessage: #"{"result":"success","summary":"done","usage":{"inputTokens":1,"outputTokens":2,"cost":"0.20"}}"#)
        session = Fixture.applying(SessionMachine.reconcile(Fixture.input(session, job: Fixture.job(session, complete: true), pod: pod)), to: session)
        XCTAssertEqual(session.status.phase, .completed)
        var object = Session(name: session.name, namespace: session.namespace, trigger: session.trigger, framework: session.framework,
                             constraints: session.constraints).object
        object.update("spec") { $0.updateObject { spec in
            spec["stop"] = true
            spec["stoppedBy"] = "carol@acme.example"
            spec["approval"] = ["decision": "approved", "by": "alice@acme.example", "at": "2026-11-30T01:00:00Z"]
        } }
        object["status"] = session.status.json
        var broken = object
        broken["status"] = ["phase": "Done"]
        try validate(object, against: crd("sessions.ambient.ai"), broken: broken)
        var badApproval = object
        badApproval.update("spec") { $0.updateObject { $0["approval"] = ["decision": "maybe", "by": "x"] } }
        try validate(object, against: crd("sessions.ambient.ai"), broken: badApproval)
    }

    func testTheLedgerFitsTheNamespacePolicyStatus() throws {
        var policy = Fixture.object("NamespacePolicy", "payments-staging", "policy")
        policy["status"] = ["budget": BudgetLedger(month: "2026-11", monthly: Amount("5000")!, reserved: Amount("2.5")!).json]
        var broken = policy
        broken["status"] = ["budget": ["month": "2026-11", "remaining": "-1"]]
        try validate(policy, against: crd("namespacepolicies.ambient.ai"), broken: broken)
    }
}
