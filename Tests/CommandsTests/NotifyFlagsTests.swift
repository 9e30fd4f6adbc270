import Foundation
import TestSupport
import XCTest

/// The notification flags of `tenantry controller` are refused before anything starts, in words that name where a
/// token should live and never repeat one.
final class NotifyFlagsTests: XCTestCase {
    func testATokenGivenByValueIsRefusedWithoutEchoingIt() {
        let outcome = CLI.run(["controller", ".", "--jira-site", "https://acme.atlassian.net", "--jira-token", "ATATT3xFfGF0-secret-value"])
        XCTAssertEqual(outcome.code, 2)
        XCTAssertTrue(outcome.stderr.contains("--jira-token takes file:PATH, env:NAME or secret:NAMESPACE/NAME[/KEY]"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("secret-value"), outcome.stderr)

        let prefixed = CLI.run(["controller", ".", "--slack-token", "xoxb:1234-secret-value"])
        XCTAssertEqual(prefixed.code, 2)
        XCTAssertTrue(prefixed.stderr.contains("got xoxb:…"), prefixed.stderr)
        XCTAssertFalse(prefixed.stderr.contains("secret-value"), prefixed.stderr)
    }

    func testAJiraTokenNeedsTheOneSiteItIsSentTo() {
        let outcome = CLI.run(["controller", ".", "--jira-token", "env:JIRA_TOKEN"])
        XCTAssertEqual(outcome.code, 2)
        XCTAssertTrue(outcome.stderr.contains("--jira-token needs --jira-site"), outcome.stderr)
    }

    func testTheTimeoutIsSeconds() {
        let outcome = CLI.run(["controller", ".", "--notify-timeout", "soon"])
        XCTAssertEqual(outcome.code, 2)
        XCTAssertTrue(outcome.stderr.contains("--notify-timeout takes seconds"), outcome.stderr)
    }
}
