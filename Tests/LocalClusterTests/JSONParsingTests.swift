import Model
import XCTest

final class JSONParsingTests: XCTestCase {
    func testKeepsKeyOrderAndNumberText() throws {
        let value = try JSON(parsing: #"{"z":1,"a":[true,null,2.50,-0.1e3],"m":{"k":"\u00e9\n"}}"#)
        XCTAssertEqual(value.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(value["a"], [true, nil, .number("2.50"), .number("-0.1e3")])
        XCTAssertEqual(value["m"]?["k"], "é\n")
        XCTAssertEqual(value.compactText, #"{"z":1,"a":[true,null,2.50,-0.1e3],"m":{"k":"é\n"}}"#)
    }

    func testLargeIntegersStayExact() throws {
        XCTAssertEqual(try JSON(parsing: "123456789012345678901234567890"), .number("123456789012345678901234567890"))
        XCTAssertEqual(try JSON(parsing: "\"\\ud83d\\ude00\""), "😀")
    }

    func testErrorsSayWhere() {
        XCTAssertThrowsError(try JSON(parsing: "{\n  \"a\": tru }")) { error in
            let parse = error as? JSONParseError
            XCTAssertEqual(parse?.line, 2)
            XCTAssertEqual(parse?.reason, "invalid literal, expected true")
        }
        XCTAssertThrowsError(try JSON(parsing: "[1,]"))
        XCTAssertThrowsError(try JSON(parsing: "{} extra"))
        XCTAssertThrowsError(try JSON(parsing: "01"))
    }
}
