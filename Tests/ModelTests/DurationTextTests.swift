import Model
import XCTest

/// The one duration parser: flags, tenantry.yaml intervals and the tenant file's one-unit `TimeSpan`.
final class DurationTextTests: XCTestCase {
    func testWholeNumbersWithUnitsAreSummed() {
        XCTAssertEqual(DurationText.seconds("30s"), 30)
        XCTAssertEqual(DurationText.seconds("5m"), 300)
        XCTAssertEqual(DurationText.seconds("1h30m"), 5400)
        XCTAssertEqual(DurationText.seconds("2d"), 172_800)
        XCTAssertEqual(DurationText.seconds("1w"), 604_800)
        XCTAssertEqual(DurationText.parse("90s"), .seconds(90))
    }

    func testAnythingElseIsRefused() {
        for text in ["", "30", "s", "1.5m", "-5m", "5 m", "5x", "m5", "١٢s", "99999999999999999999s"] {
            XCTAssertNil(DurationText.seconds(text), text)
        }
    }

    func testTimeSpanTakesOneUnitAndAPositiveCount() {
        XCTAssertEqual(TimeSpan("90d")?.seconds, 7_776_000)
        XCTAssertEqual(TimeSpan("7y")?.seconds, 7 * 31_536_000)
        for text in ["0s", "1h30m", "1234567890s", "d", "1.5h"] { XCTAssertNil(TimeSpan(text), text) }
    }

    func testFormatKeepsTheLargestTwoUnits() {
        XCTAssertEqual(DurationText.format(.seconds(45)), "45s")
        XCTAssertEqual(DurationText.format(.seconds(725)), "12m5s")
        XCTAssertEqual(DurationText.format(.seconds(183_845)), "2d3h")
    }
}
