import Foundation
import GitHub
import GitSync
import Model
import Plan
import TestKit
import XCTest

/// Pull requests of the tenant repository, as the webhook server hands them over: both sides fetched with
/// GitSync (the head only exists as GitHub's refs/pull/N/head), planned, and posted.
final class TenantRepoReviewerTests: XCTestCase {
    func testAPullRequestHeadIsFetchedPlannedAndPosted() throws {
        let github = try FakeGitHub()
        let work = try PlanGitRepo()
        let origin = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-review-origin-\(UUID().uuidString).git")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("tenantry-review-cache-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: origin)
            try? FileManager.default.removeItem(at: cache)
        }
        try work.git(["init", "--quiet", "--bare", origin.path])
        let example = PlanPaths.example("access-and-money")
        let base = try work.commit(example.base, message: "base")
        try work.git(["push", "--quiet", origin.path, "main"])
        let head = try work.commit(example.head, message: "head")
        // The head commit reaches the remote only as the pull request's ref, as on GitHub.
        try work.git(["push", "--quiet", origin.path, "\(head):refs/pull/2/head"])

        let sample = try Data(contentsOf: PlanPaths.samples.appendingPathComponent("pull_request.opened.json"))
        var root = try XCTUnwrap(try JSONSerialization.jsonObject(with: sample) as? [String: Any])
        var pull = try XCTUnwrap(root["pull_request"] as? [String: Any])
        pull["base"] = (pull["base"] as? [String: Any] ?? [:]).merging(["sha": base]) { $1 }
        pull["head"] = (pull["head"] as? [String: Any] ?? [:]).merging(["sha": head]) { $1 }
        root["pull_request"] = pull
        let body = Array(try JSONSerialization.data(withJSONObject: root))

        let reviewer = TenantRepoReviewer(repository: "codertocat/hello-world",
                                          config: SourceConfig(url: origin.path, cacheDirectory: cache.path),
                                          github: GitHubClient(apiURL: github.apiURL, token: GitHubToken("ghp_test")))
        XCTAssertTrue(reviewer.concerns(body), "names compare case-insensitively")
        let outcome = try reviewer.review(body)
        XCTAssertEqual(outcome, .posted(state: .failure, commentID: 1001, createdComment: true, verdict: .refused))
        let calls = try github.calls.map(\.description)
        XCTAssertEqual(calls.filter { $0.hasPrefix("POST /repos/Codertocat/Hello-World/issues/2/comments") }.count, 1, "\(calls)")
        XCTAssertEqual(calls.last, "POST /repos/Codertocat/Hello-World/statuses/\(head)")

        // A pull request whose head cannot be fetched says so in its status.
        var missing = root
        var missingPull = pull
        missingPull["number"] = 3
        missingPull["head"] = (pull["head"] as? [String: Any] ?? [:]).merging(["sha": String(repeating: "a", count: 40)]) { $1 }
        missing["pull_request"] = missingPull
        missing["number"] = 3
        let failed = try reviewer.review(Array(try JSONSerialization.data(withJSONObject: missing)))
        guard case .failed = failed else { return XCTFail("expected a failed plan, got \(failed)") }
        XCTAssertTrue(try github.calls.last?.body["state"] == "error")
    }
}
