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

    func admit(_ ledger: SharedLedger, _ session: String, namespace: String = "team", cost: String = "2.50", at time: Date? = nil) -> SharedLedger.Decision {
        ledger.admitting(session, namespace: namespace, cost: Amount(cost)!, limits: limits, now: time ?? now)
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
        ledger = try XCTUnwrap(ledger.finishing("s1", namespace: "team", actual: Amount("1.25"), now: now))
        XCTAssertEqual(ledger.budget.reserved, Amount("2.50"))
        XCTAssertEqual(ledger.budget.spent, Amount("1.25"))
        ledger = try XCTUnwrap(admitted(admit(ledger, "s3")))
        ledger = try XCTUnwrap(ledger.finishing("s2", namespace: "team", actual: nil, now: now))
        // Three admissions within the minute: the rate refuses a fourth until the first is a minute old.
        guard case .refused(.rate(3, let wait)) = admit(ledger, "s4", at: now.addingTimeInterval(20)) else { return XCTFail("rate") }
        XCTAssertEqual(wait, 40)
        ledger = try XCTUnwrap(admitted(admit(ledger, "s4", at: now.addingTimeInterval(61))))
        XCTAssertEqual(ledger.recent.map(\.session), ["s4"])
        // 10.00 − spent 1.25 − reserved 5.00 (s3, s4) leaves 3.75: a 4.00 session does not fit.
        ledger = try XCTUnwrap(ledger.finishing("s3", namespace: "team", actual: Amount("2.50"), now: now))
        guard case .refused(.budget(let refusal)) = admit(ledger, "s5", cost: "7.00", at: now.addingTimeInterval(62)) else { return XCTFail("budget") }
        XCTAssertEqual(refusal.remaining, Amount("3.75"))
    }

    func testSettlingTwiceChargesOnceAndARedeliveryReservesNothing() throws {
        let ledger = try XCTUnwrap(admitted(admit(empty(), "s1")))
        XCTAssertEqual(admit(ledger, "s1"), .alreadyReserved)
        let settled = try XCTUnwrap(ledger.finishing("s1", namespace: "team", actual: Amount("2.00"), now: now))
        XCTAssertNil(settled.finishing("s1", namespace: "team", actual: Amount("2.00"), now: now), "a second settlement finds nothing to settle")
        XCTAssertEqual(settled.budget.spent, Amount("2.00"))
        XCTAssertEqual(admit(settled, "s1"), .alreadyReserved, "still in the rate window: the same session")
    }

    func testOrphanedReservationsAreGivenBackAfterTheGracePeriodOnly() throws {
        var ledger = try XCTUnwrap(admitted(admit(empty(), "orphan")))
        ledger = try XCTUnwrap(admitted(admit(ledger, "running", at: now.addingTimeInterval(1))))
        XCTAssertNil(ledger.reaping(olderThan: 300, now: now.addingTimeInterval(299), namespace: "team", holds: { _ in false }), "too young")
        let reaped = try XCTUnwrap(ledger.reaping(olderThan: 300, now: now.addingTimeInterval(301), namespace: "team", holds: { $0 == "running" }))
        XCTAssertEqual(reaped.live.map(\.session), ["running"])
        XCTAssertEqual(reaped.budget.reserved, Amount("2.50"))
    }

    func testTheStatusRoundTripsAndThePatchCarriesTheResourceVersion() throws {
        let ledger = try XCTUnwrap(admitted(admit(empty(), "s1")))
        let patch = ledger.statusPatch(resourceVersion: "42")
        XCTAssertEqual(patch["metadata"]?["resourceVersion"], "42")
        let read = try SharedLedger(status: patch["status"], monthly: Amount("10.00")!, now: now, namespace: "team")
        XCTAssertEqual(read.live.map(\.session), ["s1"])
        XCTAssertEqual(read.live.first?.cost, Amount("2.50"))
        XCTAssertEqual(read.budget.reserved, Amount("2.50"))
        XCTAssertEqual(read.recent.count, 1)
        XCTAssertEqual(read.live.first.map { abs($0.at.timeIntervalSince(now)) < 0.001 }, true)
    }

    // MARK: One ledger per tenant

    func testTwoNamespacesSpendOneBudgetWhileTheirLimitsStaySeparate() throws {
        // One tenant, namespaces a and b, 10.00 a month: four 2.50 sessions in all, whichever namespace.
        var ledger = try XCTUnwrap(admitted(admit(empty(), "a1", namespace: "a")))
        ledger = try XCTUnwrap(admitted(admit(ledger, "a2", namespace: "a")))
        XCTAssertEqual(admit(ledger, "a3", namespace: "a"), .refused(.concurrency(live: 2, limit: 2)), "a's two slots are taken")
        ledger = try XCTUnwrap(admitted(admit(ledger, "b1", namespace: "b")), "b's slots are its own")
        ledger = try XCTUnwrap(admitted(admit(ledger, "b2", namespace: "b")))
        XCTAssertEqual(ledger.budget.reserved, Amount("10.00"))
        // a1 settles at 2.50: a has a slot again, but the tenant's budget is spent, in both namespaces.
        ledger = try XCTUnwrap(ledger.finishing("a1", namespace: "a", actual: Amount("2.50"), now: now))
        guard case .refused(.budget(let refusal)) = admit(ledger, "a3", namespace: "a") else { return XCTFail("a over the tenant budget") }
        XCTAssertEqual(refusal.remaining, Amount("0"))
        XCTAssertNil(ledger.finishing("a1", namespace: "b", actual: Amount("2.50"), now: now), "a session is settled in its own namespace only")
        // b2 is released unspent: 2.50 is free for either namespace.
        ledger = try XCTUnwrap(ledger.finishing("b2", namespace: "b", actual: nil, now: now))
        ledger = try XCTUnwrap(admitted(admit(ledger, "a3", namespace: "a", at: now.addingTimeInterval(1))))
        XCTAssertEqual(ledger.budget.spent, Amount("2.50"))
        XCTAssertEqual(ledger.budget.reserved, Amount("7.50"))
        XCTAssertEqual(ledger.live.map { "\($0.namespace)/\($0.session)" }, ["a/a2", "b/b1", "a/a3"])
        // The rate is per namespace too: a has admitted three this minute (its limit), b two.
        let slot = try XCTUnwrap(ledger.finishing("a2", namespace: "a", actual: Amount("0"), now: now))
        guard case .refused(.rate(3, _)) = admit(slot, "a4", namespace: "a", cost: "0", at: now.addingTimeInterval(2)) else { return XCTFail("a's rate") }
        let freed = try XCTUnwrap(ledger.finishing("b1", namespace: "b", actual: Amount("0"), now: now))
        XCTAssertNotNil(admitted(admit(freed, "b3", namespace: "b", cost: "0", at: now.addingTimeInterval(2))), "b's rate has room")
        // Reaping one namespace's orphans leaves the other's reservations alone.
        let reaped = try XCTUnwrap(ledger.reaping(olderThan: 0, now: now.addingTimeInterval(5), namespace: "a", holds: { _ in false }))
        XCTAssertEqual(reaped.live.map(\.session), ["b1"])
    }

    func testEntriesWrittenBeforeTenantLedgersBelongToThePolicysNamespace() throws {
        let status: JSON = ["budget": ["month": .string(Timestamp.month(now)), "reserved": "2.50", "spent": "1.00"],
                            "admission": ["live": [["session": "old", "cost": "2.50", "month": .string(Timestamp.month(now)),
                                                    "at": .string(Timestamp.microTime(now))]],
                                          "recent": [["session": "old", "at": .string(Timestamp.microTime(now))]]]]
        let ledger = try SharedLedger(status: status, monthly: Amount("10.00")!, now: now, namespace: "legacy")
        XCTAssertEqual(ledger.live.map(\.namespace), ["legacy"])
        XCTAssertEqual(ledger.recent.map(\.namespace), ["legacy"])
        XCTAssertTrue(ledger.isLive("old", namespace: "legacy"))
        let settled = try XCTUnwrap(ledger.finishing("old", namespace: "legacy", actual: Amount("2.00"), now: now))
        XCTAssertEqual(settled.budget.spent, Amount("3.00"))
        XCTAssertEqual(settled.budget.reserved, Amount("0"))
    }

    // MARK: One session per intent

    func testAnIntentIsOwnedByOneSessionWithinTheWindow() throws {
        let intent = "[\"a\",\"github:acme/app#7\",\"issue\"]"
        func ask(_ ledger: SharedLedger, _ session: String, at seconds: TimeInterval) -> SharedLedger.Decision {
            ledger.admitting(session, namespace: "a", cost: Amount("1.00")!, limits: .init(maxConcurrentSessions: 10, sessionsPerMinute: 10),
                             now: now.addingTimeInterval(seconds), intent: intent, intentWindow: 600)
        }
        let ledger = try XCTUnwrap(admitted(ask(empty(), "opened", at: 0)))
        XCTAssertEqual(ask(ledger, "labeled", at: 5), .duplicate(session: "opened"))
        XCTAssertEqual(ask(ledger, "opened", at: 5), .alreadyReserved)
        // Past the window the intent is free again; the newer session owns it and the old entry is pruned.
        let later = try XCTUnwrap(admitted(ask(ledger, "later", at: 601)))
        XCTAssertEqual(later.intents.map(\.session), ["later"])
        XCTAssertEqual(ask(later, "again", at: 602), .duplicate(session: "later"))
        // An admission without an intent prunes them too.
        let plain = later.admitting("plain", namespace: "a", cost: Amount("1.00")!, limits: .init(maxConcurrentSessions: 10, sessionsPerMinute: 10),
                                    now: now.addingTimeInterval(1300), intentWindow: 600)
        guard case .admitted(let pruned) = plain else { return XCTFail("\(plain)") }
        XCTAssertEqual(pruned.intents, [])
        // A withdrawn admission gives its intent back, and the intents round-trip through the status.
        XCTAssertNil(later.withdrawing("later", namespace: "a").owner(of: intent, now: now.addingTimeInterval(602), window: 600))
        let read = try SharedLedger(status: later.statusPatch(resourceVersion: "1")["status"], monthly: Amount("10.00")!, now: now, namespace: "a")
        XCTAssertEqual(read.owner(of: intent, now: now.addingTimeInterval(602), window: 600), "later")
    }
}
