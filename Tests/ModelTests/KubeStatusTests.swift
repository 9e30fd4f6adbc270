import Model
import XCTest

/// The one Kubernetes `Status`: written by the local cluster, read back by the client, unchanged.
final class KubeStatusTests: XCTestCase {
    func testAStatusSurvivesItsOwnBody() throws {
        let status = KubeStatus(code: 422, reason: "Invalid", message: "ConfigMap \"x\" is invalid: data: Required value",
                                details: ["name": "x", "kind": "ConfigMap"],
                                causes: [KubeStatus.Cause(reason: "FieldValueRequired", message: "Required value", field: "data")],
                                retryAfterSeconds: 3)
        let body = status.json.compactBytes
        let json = try JSON(parsing: Data(body))
        XCTAssertEqual(json["kind"], "Status")
        XCTAssertEqual(json["status"], "Failure")
        XCTAssertEqual(json["code"], .int(422))
        XCTAssertEqual(KubeStatus(code: 422, body: body), status)
        XCTAssertEqual(status.kind, "ConfigMap")
        XCTAssertEqual(status.name, "x")
    }

    func testABodyThatIsNoStatusKeepsItsFirstLineAndTheCodesReason() {
        let status = KubeStatus(code: 503, body: Array("<html>down</html>\nmore".utf8))
        XCTAssertEqual(status.reason, "ServiceUnavailable")
        XCTAssertEqual(status.message, "<html>down</html>")
        XCTAssertEqual(status.rendered(object: nil), "Error from server (ServiceUnavailable): <html>down</html>")
    }

    func testJSONScalars() throws {
        let json = try JSON(parsing: #"{"a": 3, "b": 2.0, "c": 2.5, "d": true, "e": "3"}"#)
        XCTAssertEqual(json["a"]?.intValue, 3)
        XCTAssertEqual(json["b"]?.intValue, 2)
        XCTAssertNil(json["c"]?.intValue)
        XCTAssertEqual(json["d"]?.boolValue, true)
        XCTAssertNil(json["e"]?.intValue)
    }
}
