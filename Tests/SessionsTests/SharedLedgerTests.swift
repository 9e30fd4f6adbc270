import Foundation
import Model
import Sessions
import Support
import XCTest

/// The shared ledger's pure operations: what several receivers and the controller apply by compare-and-swap.
final class SharedLedgerTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_796_000_000)
    let limits = SharedLedger.Limits(maxConcurrentSessions: 2, sessionsPerMinute: 3)

    func empty(_ monthly: String = "10.00") -> SharedLedger { SharedLedger(budget: .empty(monthly: Amount(monthly)!, now: now)) }

    func admit(_ ledger: SharedLedger, _ session: String, cost: String = "2.50", at time: Date? = nil) -> SharedLedger.Decision {
        ledger.admitting(session, cost: Amount(cost)!, limits: limits, now: time ?? now)
    }

    func admitted(_ decision: SharedLedger.Decision, file: StaticString = #filePath, line: UInt = #line) -> SharedLedger? {
        guard case .admitted(let next) = decision else { XCTFail("not admitted: \(decision)", file: file, line: line); return nil }
        return next
    }

    func testConcurrencyThenRateThenBudgetRefuse() throws {
        var ledger = try XCTUnwrap(admitted(admit(empty(), "s1")))
        ledger = try XCTUnwrap(admitted(admit(ledger, "s2")))
        XCTAssertEqual(admit(ledger, "s3"), .refused(.concurrency(live: 2, limit: 2)))
        XCTAssertEqual(ledger.budget.reserved, Amount("5.00"))
        // s1 settles: its slot frees, its reservation moves to spent at the actual cost.
        ledger = try XCTUnwrap(ledger.finishing("s1", actual: Amount("1.25"), now: now))
        XCTAssertEqual(ledger.budget.reserved, Amount("2.50"))
        XCTAssertEqual(ledger.budget.spent, Amount("1.25"))
        ledger = try XCTUnwrap(admitted(admit(ledger, "s3")))
        ledger = try XCTUnwrap(ledger.finishing("s2", actual: nil, now: now))
        // Three admissions within the minute: the rate refuses a fourth until the first is a minute old.
        guard case .refused(.rate(3, let wait)) = admit(ledger, "s4", at: now.addingTimeInterval(20)) else { return XCTFail("rate") }
        XCTAssertEqual(wait, 40)
        ledger = try XCTUnwrap(admitted(admit(ledger, "s4", at: now.addingTimeInterval(61))))
        XCTAssertEqual(ledger.recent.map(\.session), ["s4"])
        // 10.00 − spent 1.25 − reserved 5.00 (s3, s4) leaves 3.75: a 4.00 session does not fit.
        ledger = try XCTUnwrap(ledger.finishing("s3", actual: Amount("2.50"), now: now))
        guard case .refused(.budget(let refusal)) = admit(ledger, "s5", cost: "7.00", at: now.addingTimeInterval(62)) else { return XCTFail("budget") }
        XCTAssertEqual(refusal.remaining, Amount("3.75"))
    }

    func testSettlingTwiceChargesOnceAndARedeliveryReservesNothing() throws {
        let ledger = try XCTUnwrap(admitted(admit(empty(), "s1")))
        XCTAssertEqual(admit(ledger, "s1"), .alreadyReserved)
        let settled = try XCTUnwrap(ledger.finishing("s1", actual: Amount("2.00"), now: now))
        XCTAssertNil(settled.finishing("s1", actual: Amount("2.00"), now: now), "a second settlement finds nothing to settle")
        XCTAssertEqual(settled.budget.spent, Amount("2.00"))
        XCTAssertEqual(admit(settled, "s1"), .alreadyReserved, "still in the rate window: the same session")
    }

    func testOrphanedReservationsAreGivenBackAfterTheGracePeriodOnly() throws {
        var ledger = try XCTUnwrap(admitted(admit(empty(), "orphan")))
        ledger = try XCTUnwrap(admitted(admit(ledger, "running", at: now.addingTimeInterval(1))))
        XCTAssertNil(ledger.reaping(olderThan: 300, now: now.addingTimeInterval(299), holds: { _ in false }), "too young")
        let reaped = try XCTUnwrap(ledger.reaping(olderThan: 300, now: now.addingTimeInterval(301), holds: { $0 == "running" }))
        XCTAssertEqual(reaped.live.map(\.session), ["running"])
        XCTAssertEqual(reaped.budget.reserved, Amount("2.50"))
    }

    func testTheStatusRoundTripsAndThePatchCarriesTheResourceVersion() throws {
        let ledger = try XCTUnwrap(admitted(admit(empty(), "s1")))
        let patch = ledger.statusPatch(resourceVersion: "42")
        XCTAssertEqual(patch["metadata"]?["resourceVersion"], "42")
        let read = try SharedLedger(status: patch["status"], monthly: Amount("10.00")!, now: now)
        XCTAssertEqual(read.live.map(\.session), ["s1"])
        XCTAssertEqual(read.live.first?.cost, Amount("2.50"))
        XCTAssertEqual(read.budget.reserved, Amount("2.50"))
        XCTAssertEqual(read.recent.count, 1)
        XCTAssertEqual(read.live.first.map { abs($0.at.timeIntervalSince(now)) < 0.001 }, true)
    }
}
