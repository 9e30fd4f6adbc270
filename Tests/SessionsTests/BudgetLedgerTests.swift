import Foundation
import Model
import XCTest
@testable import Sessions

final class BudgetLedgerTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30
    let monthly = Amount("100")!

    func testReserveSettleAndReleaseMoveMoneyBetweenReservedAndSpent() throws {
        let empty = BudgetLedger.empty(monthly: monthly, now: now)
        XCTAssertEqual(empty.month, "2026-11")
        let reserved = try empty.reserving(Amount("30")!, now: now)
        XCTAssertEqual(reserved.reserved, Amount("30"))
        XCTAssertEqual(reserved.remaining, Amount("70"))
        let settled = reserved.settling(reservation: Amount("30")!, reservedIn: "2026-11", actual: Amount("12.5")!, now: now)
        XCTAssertEqual(settled.reserved, Amount(micros: 0))
        XCTAssertEqual(settled.spent, Amount("12.5"))
        XCTAssertEqual(settled.remaining, Amount("87.5"))
        let released = try settled.reserving(Amount("10")!, now: now).releasing(reservation: Amount("10")!, reservedIn: "2026-11", now: now)
        XCTAssertEqual(released, settled)
    }

    func testAReservationThatDoesNotFitIsRefusedWithWhatIsLeft() throws {
        let ledger = BudgetLedger(month: "2026-11", monthly: monthly, reserved: Amount("50")!, spent: Amount("45")!)
        XCTAssertThrowsError(try ledger.reserving(Amount("5.01")!, now: now)) { error in
            XCTAssertEqual((error as? BudgetLedger.Refusal)?.description,
                           "the budget has 5.00 left for 2026-11 and this session is estimated at 5.01")
        }
        XCTAssertEqual(try ledger.reserving(Amount("5")!, now: now).remaining, Amount(micros: 0))
    }

    func testANewMonthStartsAfreshAndOldReservationsSettleIntoIt() throws {
        let november = BudgetLedger(month: "2026-11", monthly: monthly, reserved: Amount("40")!, spent: Amount("60")!)
        let december = now.addingTimeInterval(2 * 86_400)
        XCTAssertTrue(november.isExhausted)
        XCTAssertEqual(try november.reserving(Amount("10")!, now: december).month, "2026-12")
        let settled = november.settling(reservation: Amount("40")!, reservedIn: "2026-11", actual: Amount("15")!, now: december)
        XCTAssertEqual(settled, BudgetLedger(month: "2026-12", monthly: monthly, reserved: Amount(micros: 0), spent: Amount("15")!))
    }

    func testOverspendingLeavesNothingRemainingNeverANegativeAmount() {
        let ledger = BudgetLedger(month: "2026-11", monthly: monthly, reserved: Amount("10")!, spent: Amount("80")!)
        let over = ledger.settling(reservation: Amount("10")!, reservedIn: "2026-11", actual: Amount("35")!, now: now)
        XCTAssertEqual(over.spent, Amount("115"))
        XCTAssertEqual(over.remaining, Amount(micros: 0))
        XCTAssertTrue(over.isExhausted)
    }

    func testTheLedgerRoundTripsThroughTheStatusAndPatchesWithItsResourceVersion() throws {
        let ledger = BudgetLedger(month: "2026-11", monthly: monthly, reserved: Amount("2.5")!, spent: Amount("0.015")!)
        XCTAssertEqual(ledger.json, ["month": "2026-11", "reserved": "2.50", "spent": "0.015", "remaining": "97.485"])
        XCTAssertEqual(try BudgetLedger(json: ledger.json, monthly: monthly), ledger)
        XCTAssertEqual(ledger.statusPatch(resourceVersion: "17")["metadata"], ["resourceVersion": "17"])
        XCTAssertThrowsError(try BudgetLedger(json: ["month": "November", "reserved": "1"], monthly: monthly))
        XCTAssertThrowsError(try BudgetLedger(json: ["month": "2026-11", "reserved": "-1"], monthly: monthly)) { error in
            XCTAssertTrue("\(error)".contains("reserved: Invalid value: \"-1\""), "\(error)")
        }
        // Through the NamespacePolicy object, as the controller reads it.
        let policy = Fixture.policy(ledger: ledger)
        XCTAssertEqual(policy.ledger?.spent, Amount("0.015"))
        XCTAssertEqual(policy.resourceVersion, "42")
    }

    /// Two receivers race for the last of a budget through compare-and-swap on a resourceVersion: each re-reads on a
    /// conflict and applies the same pure operation again. The sum admitted never exceeds the budget.
    func testRacingReceiversNeverAdmitMoreThanTheBudget() {
        final class Store: @unchecked Sendable {
            let lock = NSLock()
            var ledger: BudgetLedger
            var version = 1
            init(_ ledger: BudgetLedger) { self.ledger = ledger }
            func read() -> (BudgetLedger, Int) { lock.lock(); defer { lock.unlock() }; return (ledger, version) }
            /// Like an update with metadata.resourceVersion: refused (409) when the object moved on.
            func write(_ next: BudgetLedger, ifAt expected: Int) -> Bool {
                lock.lock(); defer { lock.unlock() }
                guard expected == version else { return false }
                ledger = next
                version += 1
                return true
            }
        }
        let store = Store(BudgetLedger(month: "2026-11", monthly: Amount("10")!))
        let admitted = NSLock()
        nonisolated(unsafe) var counts = [0, 0]
        let estimate = Amount("0.75")!
        let now = self.now
        DispatchQueue.concurrentPerform(iterations: 2) { receiver in
            for _ in 0..<50 {
                while true {
                    let (ledger, version) = store.read()
                    guard let next = try? ledger.reserving(estimate, now: now) else { break }
                    if store.write(next, ifAt: version) {
                        admitted.lock(); counts[receiver] += 1; admitted.unlock()
                        break
                    }
                }
            }
        }
        XCTAssertEqual(counts.reduce(0, +), 13, "13 × 0.75 = 9.75 fits in 10, a 14th would not")
        XCTAssertEqual(store.ledger.reserved, Amount("9.75"))
        XCTAssertLessThanOrEqual(store.ledger.reserved.micros, store.ledger.monthly.micros)
    }
}
