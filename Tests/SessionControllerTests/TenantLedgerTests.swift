import Apply
import Foundation
import Model
import SessionController
import Sessions
import Support
import TestSupport
import XCTest

/// A tenant with two namespaces has one monthly budget: the controller settles every Session of the tenant on the
/// ledger of its first namespace, and both namespaces' NamespacePolicies say when it is used up.
final class TenantLedgerTests: XCTestCase {
    func condition(_ type: String, of policy: JSONObject) -> String? {
        policy["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }?["status"]?.stringValue
    }

    func testSessionsOfTwoNamespacesSettleOnOneLedgerAndExhaustTheBudgetOfBoth() throws {
        let cluster = try SessionHarness(namespaces: ["acme", "acme-b"], monthly: "1.00")
        try cluster.startController()
        XCTAssertEqual(try PolicySnapshot(object: try cluster.policy("acme-b")).ledgerNamespace, "acme")
        XCTAssertEqual(try PolicySnapshot(object: try cluster.policy("acme")).ledgerNamespace, "acme")
        let usage = #"{"type":"usage","inputTokens":100,"outputTokens":10,"cost":"0.60"}"#
        try cluster.createSession("gh-a", command: "echo '\(usage)'; echo done", namespace: "acme")
        try cluster.createSession("gh-b", command: "echo '\(usage)'; echo done", namespace: "acme-b")
        try eventually("both Sessions are Completed") {
            try cluster.phase("gh-a", namespace: "acme") == "Completed" && cluster.phase("gh-b", namespace: "acme-b") == "Completed"
        }
        // 0.60 in each namespace: 1.20 of the tenant's 1.00, on the first namespace's ledger; the second keeps none.
        XCTAssertEqual(try PolicySnapshot(object: try cluster.policy("acme")).ledger?.spent, Amount("1.20"))
        XCTAssertNil(try cluster.policy("acme-b")["status"]?["budget"]?.objectValue, "acme-b keeps no ledger of its own")
        try eventually("BudgetAvailable is False in both namespaces") {
            try ["acme", "acme-b"].allSatisfy { namespace in
                let policy = try cluster.policy(namespace)
                return condition("BudgetAvailable", of: policy) == "False" && condition("Ready", of: policy) == "False"
            }
        }
        // A third Session, in the second namespace, does not start: the tenant's budget is spent.
        try cluster.createSession("gh-b2", command: "echo done", namespace: "acme-b")
        try eventually("gh-b2 is Failed") { try cluster.phase("gh-b2", namespace: "acme-b") == "Failed" }
        let refused = try cluster.status("gh-b2", namespace: "acme-b")
        XCTAssertEqual(refused.reason, SessionMachine.Reason.policyViolation)
        XCTAssertTrue(refused.message.contains("exhausted"), refused.message)
        XCTAssertEqual(try PolicySnapshot(object: try cluster.policy("acme")).ledger?.spent, Amount("1.20"), "nothing charged for a session that never ran")
    }
}
