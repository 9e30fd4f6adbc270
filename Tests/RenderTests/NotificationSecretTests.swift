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

/// `platform.yaml` `notifications:` says where notifications may go.
final class NotificationAddressesTests: XCTestCase {
    func testTheDefaultsAndTheGivenLists() throws {
        XCTAssertEqual(try TempRepo().validate().platform.notificationAddresses, NotificationAddresses())
        let repo = try TempRepo(platform: TempRepo.platform + "notifications:\n  denyCIDRs: [10.0.0.0/8]\n  allowCIDRs: [10.20.0.0/16]\n")
        XCTAssertEqual(try repo.validate().platform.notificationAddresses, NotificationAddresses(deny: ["10.0.0.0/8"], allow: ["10.20.0.0/16"]))
    }

    func testABadCIDRNamesFileLineAndField() throws {
        let repo = try TempRepo(platform: TempRepo.platform + "notifications:\n  denyCIDRs: [10.0.0.0/99]\n")
        XCTAssertThrowsError(try repo.validate()) { error in
            let messages = (error as? RepoError)?.diagnostics.map(\.description) ?? []
            XCTAssertEqual(messages.count, 1, "\(messages)")
            XCTAssertTrue(messages.first?.contains("notifications.denyCIDRs") == true && messages.first?.contains("\"10.0.0.0/99\" is not a CIDR") == true, "\(messages)")
        }
    }
}
