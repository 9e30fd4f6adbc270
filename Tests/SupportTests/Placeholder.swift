import XCTest
final class SupportTestsPlaceholder: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
