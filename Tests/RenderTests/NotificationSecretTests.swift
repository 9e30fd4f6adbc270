import Foundation
import Model
import Render
import TestSupport
import XCTest

/// `policy.notifications.signingSecret` names a Secret; its value never comes from git.
final class NotificationSecretTests: XCTestCase {
    private func tenant(_ secret: String) -> String {
        TempRepo.tenant("alpha") + """
          notifications:
            signingSecret: \(secret)
            webhooks:
              - url: https://hooks.example.com/x
                events: [session.completed, budget.threshold]

        """
    }

    func testASecretNameIsReadAndRendered() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", tenant("alpha-notifications"))
        let alpha = try XCTUnwrap(try repo.validate().tenants.first { $0.name == "alpha" })
        XCTAssertEqual(alpha.messages, [])
        XCTAssertEqual(alpha.tenant?.policy.notificationSecret, "alpha-notifications")
        XCTAssertEqual(alpha.tenant?.policy.notifications.first?.events, ["session.completed", "budget.threshold"])
    }

    func testAnInvalidSecretNameNamesFileLineAndField() throws {
        let repo = try TempRepo()
        try repo.write("tenants/alpha.yaml", tenant("Not_A-Secret"))
        let alpha = try XCTUnwrap(try repo.validate().tenants.first { $0.name == "alpha" })
        XCTAssertFalse(alpha.isValid)
        XCTAssertEqual(alpha.messages.count, 1, "\(alpha.messages)")
        XCTAssertTrue(alpha.messages[0].hasPrefix("tenants/alpha.yaml:15:20: policy.notifications.signingSecret: \"Not_A-Secret\" is not a valid Secret name"),
                      alpha.messages[0])
    }
}
