import Foundation
import Webhooks
import XCTest

/// Where the webhook secrets come from (`serve --secret-file` and the environment), and that they never print.
final class WebhookSecretsTests: XCTestCase {
    func testSecretsComeFromFilesOrTheEnvironmentAndFilesWin() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try "  from-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let secrets = try WebhookSecrets.load(files: [.github: file.path],
                                              environment: ["TENANTRY_GITHUB_WEBHOOK_SECRET": "from-env", "TENANTRY_SLACK_SIGNING_SECRET": "slack-env"])
        XCTAssertEqual(secrets.github, Array("from-file".utf8))
        XCTAssertEqual(secrets.slack, Array("slack-env".utf8))
        XCTAssertNil(secrets.jira)
        XCTAssertFalse(secrets.description.contains("from-file"))
    }
}
