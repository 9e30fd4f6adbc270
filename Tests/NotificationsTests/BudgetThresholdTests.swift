import Foundation
import Model
import Notifications
import XCTest

final class BudgetThresholdTests: XCTestCase {
    func testThresholdsReached() {
        let monthly = Amount(micros: 1_000_000_000)
        XCTAssertEqual(BudgetThreshold.reached(month: "2026-12", monthly: monthly, spent: Amount(micros: 799_999_999)), [])
        XCTAssertEqual(BudgetThreshold.reached(month: "2026-12", monthly: monthly, spent: Amount(micros: 800_000_000)).map(\.percent), [80])
        XCTAssertEqual(BudgetThreshold.reached(month: "2026-12", monthly: monthly, spent: Amount(micros: 1_200_000_000)).map(\.percent), [80, 100])
    }

    func testEachThresholdIsRecordedOncePerMonth() throws {
        let notifier = try Notifier(.init(outboxPath: Fixture.outboxPath()), secrets: Fixture.secrets)
        func record(_ threshold: BudgetThreshold, session: String) throws -> [String] {
            var transition = Fixture.transition(.budgetThreshold, phase: .running, url: "https://receiver.example/hook")
            transition.session = session
            transition.threshold = threshold
            return try notifier.record(transition)
        }
        let first = try record(BudgetThreshold(month: "2026-12", percent: 80), session: "a")
        XCTAssertEqual(try record(BudgetThreshold(month: "2026-12", percent: 80), session: "b"), first, "seen again after another session")
        XCTAssertNotEqual(try record(BudgetThreshold(month: "2026-12", percent: 100), session: "b"), first)
        XCTAssertNotEqual(try record(BudgetThreshold(month: "2027-01", percent: 80), session: "c"), first)
        XCTAssertEqual(try notifier.outbox.all().count, 3)
    }
}
