import Foundation
import GitHub
import GitSync
import HTTPClient
import Model
import Plan
import Support
import TestSupport
import Webhooks
import XCTest

/// Pull requests on the tenant repository itself are planned (`serve --plan-repo`), not matched to triggers.
final class WebhookPlanTests: XCTestCase {
    func testATenantRepoPullRequestIsPlannedInTheBackgroundOthersFollowTriggers() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-no-repo-\(UUID().uuidString)")
        // GitHub cannot be reached here: the plan runs, fails to post, and says so in the log.
        let reviewer = TenantRepoReviewer(repository: "Codertocat/Hello-World",
                                          config: SourceConfig(url: missing.path, cacheDirectory: missing.path + "-cache"),
                                          github: GitHubClient(apiURL: "http://127.0.0.1:1", token: GitHubToken("ghp_never_printed")))
        let fixture = try WebhookFixture(reviewer: reviewer)
        let body = try WebhookFixture.sample("pull_request.opened.json")
        let answer = try fixture.github("pull_request", body: body)
        XCTAssertEqual(answer.status, 202, answer.text)
        XCTAssertEqual(answer.json["status"], "planning")
        XCTAssertEqual(answer.json["repository"], "Codertocat/Hello-World")
        fixture.eventually("the plan's outcome is logged") { fixture.logs.all.contains { $0.contains("plan not posted") } }
        XCTAssertEqual(fixture.logs.levels(of: "plan not posted"), [.warning])
        XCTAssertEqual(fixture.logs.levels(of: "planning Codertocat/Hello-World"), [.info])
        XCTAssertFalse(fixture.logs.all.joined().contains("ghp_never_printed"))

        // Another repository's pull request is not planned: it goes through routing and triggers.
        let other = try editedSample("pull_request.opened.json") { set(&$0, ["repository", "full_name"], "acme/elsewhere") }
        let routed = try fixture.github("pull_request", body: other)
        XCTAssertEqual(routed.status, 202)
        XCTAssertNotEqual(routed.json["status"], "planning")
    }
}
