import Model
import Notifications
import XCTest

final class AddressPolicyTests: XCTestCase {
    func testCIDRs() throws {
        let ten = try XCTUnwrap(CIDR("10.0.0.0/8"))
        XCTAssertTrue(ten.contains([10, 200, 3, 4]))
        XCTAssertFalse(ten.contains([11, 0, 0, 1]))
        let twelve = try XCTUnwrap(CIDR("172.16.0.0/12"))
        XCTAssertTrue(twelve.contains([172, 31, 255, 255]))
        XCTAssertFalse(twelve.contains([172, 32, 0, 0]))
        XCTAssertNil(CIDR("10.0.0.0/33"))
        XCTAssertNil(CIDR("not-an-address"))
        XCTAssertNil(CIDR("10.0.0.0/8x"))
        XCTAssertNotNil(CIDR("fe80::/10"))
    }

    func testDefaultDenyAndAllowExceptions() throws {
        let policy = AddressPolicy()
        for denied in ["127.0.0.1", "::1", "169.254.169.254", "10.96.0.1", "192.168.1.1", "::ffff:127.0.0.1", "fe80::1", "0.0.0.0"] {
            let url = denied.contains(":") ? "https://[\(denied)]:8443/x" : "https://\(denied):8443/x"
            XCTAssertThrowsError(try policy.check(url), denied)
        }
        XCTAssertEqual(try AddressPolicy.testingAllowsLoopback.check("https://127.0.0.1:8443/x").resolveEntry, "127.0.0.1:8443:127.0.0.1")
        XCTAssertNoThrow(try policy.check("https://93.184.216.34/hook"), "a public address literal is allowed (no traffic is sent)")
        XCTAssertThrowsError(try policy.check("http://93.184.216.34/hook")) { error in
            XCTAssertTrue("\(error)".contains("https"), "\(error)")
        }
    }
}

final class PlatformAddressPolicyTests: XCTestCase {
    func testThePlatformListsOnTopOfWhatIsAlwaysDenied() throws {
        let policy = AddressPolicy(platform: NotificationAddresses(deny: ["203.0.113.0/24"], allow: ["203.0.113.7/32"]))
        XCTAssertThrowsError(try policy.check("https://203.0.113.8/hook"))
        XCTAssertNoThrow(try policy.check("https://203.0.113.7/hook"))
        XCTAssertNoThrow(try policy.check("https://10.0.0.1/hook"), "the private ranges were replaced by the platform's list")
        XCTAssertThrowsError(try policy.check("https://127.0.0.1/hook"), "loopback stays denied")
        XCTAssertThrowsError(try policy.check("https://169.254.169.254/latest/meta-data"), "link-local stays denied")
    }
}
