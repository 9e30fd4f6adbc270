import Foundation
import Model
import Webhooks
import XCTest

/// The admission rules as a pure state machine, with the clock in the test's hands.
final class AdmissionStateTests: XCTestCase {
    private func request(_ key: String, namespace: String = "ns", cost: String = "1.00", budget: String = "10.00",
                         perMinute: Int = 3, concurrent: Int = 100) throws -> AdmissionRequest {
        let repo = try TestRepo.make()
        let table = try TenantTable.load(repo: repo.path)
        var policy = try XCTUnwrap(table.policies["ratey"])
        policy.policy.sessionsPerMinute = perMinute
        policy.policy.maxConcurrentSessions = concurrent
        return AdmissionRequest(deliveryKey: key, sessionName: "s-\(key)", tenant: "t", namespace: namespace, model: "claude-sonnet-4-5",
                                tools: ["git"], estimatedCost: Amount(cost)!, policy: policy,
                                budget: Budget(monthly: Amount(budget)!, currency: "USD"), object: [:])
    }

    func testTheRateWindowSlidesWithTheClock() throws {
        var state = AdmissionState()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for (index, offset) in [0.0, 10, 20].enumerated() {
            XCTAssertEqual(state.decide(try request("d\(index)"), now: start + offset), .admitted(session: "s-d\(index)"))
        }
        guard case .refused(let refusal) = state.decide(try request("d3"), now: start + 30) else { return XCTFail("not refused") }
        XCTAssertEqual(refusal.status, 429)
        XCTAssertEqual(refusal.retryAfter, 30)
        // At +60 s the first admission leaves the window.
        XCTAssertEqual(state.decide(try request("d4"), now: start + 60), .admitted(session: "s-d4"))
        guard case .refused = state.decide(try request("d5"), now: start + 61) else { return XCTFail("not refused") }
    }

    func testARedeliveryGetsItsSessionEvenWhenTheNamespaceIsFull() throws {
        var state = AdmissionState()
        let now = Date()
        XCTAssertEqual(state.decide(try request("a", perMinute: 1), now: now), .admitted(session: "s-a"))
        XCTAssertEqual(state.decide(try request("a", perMinute: 1), now: now), .duplicate(session: "s-a"))
        guard case .refused = state.decide(try request("b", perMinute: 1), now: now) else { return XCTFail("not refused") }
    }

    func testTheLedgerStartsAfreshEachMonth() throws {
        var state = AdmissionState()
        let november = Date(timeIntervalSince1970: 1_795_000_000)   // 2026-11
        XCTAssertEqual(state.decide(try request("a", cost: "6.00"), now: november), .admitted(session: "s-a"))
        guard case .refused(let refusal) = state.decide(try request("b", cost: "6.00"), now: november) else { return XCTFail("not refused") }
        XCTAssertEqual(refusal.details["remaining"], "4.00")
        let december = november.addingTimeInterval(40 * 86_400)
        XCTAssertEqual(state.decide(try request("b", cost: "6.00"), now: december), .admitted(session: "s-b"))
        XCTAssertEqual(state.ledger(tenant: "t", now: december).reserved, 6_000_000)
    }

    func testEveryViolationIsListedForTheDryRun() throws {
        var state = AdmissionState()
        var bad = try request("x", cost: "20.00", concurrent: 1)
        bad.model = "claude-opus-4-1"
        bad.tools = ["shell"]
        state.live["ns"] = ["other"]
        XCTAssertEqual(state.violations(bad, now: Date()).map { $0.details["rule"]?.stringValue ?? $0.code.rawValue },
                       ["models", "tools", "maxConcurrentSessions", "budget"])
    }
}
