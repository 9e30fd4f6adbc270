import Foundation
import GitHub
import Model
import Plan
import TestKit
import XCTest

final class PullRequestPlannerTests: XCTestCase {
    /// Sleeps recorded instead of taken, against a fixed clock.
    final class Waits: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [TimeInterval] = []
        func add(_ wait: TimeInterval) { lock.lock(); list.append(wait); lock.unlock() }
        var values: [TimeInterval] { lock.lock(); defer { lock.unlock() }; return list }
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let repo = "Codertocat/Hello-World"

    private var github: FakeGitHub!
    private var waits: Waits!
    private var git: PlanGitRepo!

    override func setUpWithError() throws {
        github = try FakeGitHub()
        waits = Waits()
        git = try PlanGitRepo()
    }

    override func tearDown() {
        github = nil
        git = nil
    }

    private func planner(token: String = "ghp_secret-test-token") -> PullRequestPlanner {
        let waits = self.waits!
        let client = GitHubClient(apiURL: github.apiURL + "/", token: GitHubToken(token),
                                  clock: GitHubClock(now: { Self.now }, sleep: { waits.add($0) }))
        return PullRequestPlanner(github: client, repository: git.path)
    }

    /// A real webhook sample with its base and head commits swapped for ones in the local repository.
    private func webhook(_ sample: String, base: String, head: String, action: String? = nil) throws -> [UInt8] {
        let data = try Data(contentsOf: PlanPaths.samples.appendingPathComponent(sample))
        var root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var pull = try XCTUnwrap(root["pull_request"] as? [String: Any])
        var baseRef = try XCTUnwrap(pull["base"] as? [String: Any])
        var headRef = try XCTUnwrap(pull["head"] as? [String: Any])
        baseRef["sha"] = base
        headRef["sha"] = head
        pull["base"] = baseRef
        pull["head"] = headRef
        root["pull_request"] = pull
        if let action { root["action"] = action }
        return Array(try JSONSerialization.data(withJSONObject: root))
    }

    private func footer(_ base: String, _ head: String) -> String {
        "<sub>Compared \(base.prefix(12))...\(head.prefix(12)) (merge base...head). Guardrails: the guardrails section of the base side's platform.yaml.</sub>\n"
    }

    func testOneCommentIsCreatedThenEditedOnTheNextPushAndStatusesAreSet() throws {
        let example = PlanPaths.example("access-and-money")
        let base = try git.commit(example.base, message: "base")
        let head = try git.commit(example.head, message: "head")
        let opened = try planner().handle(body: try webhook("pull_request.opened.json", base: base, head: head))
        XCTAssertEqual(opened, .posted(state: .failure, commentID: 1001, createdComment: true, verdict: .refused))

        let expected = try String(contentsOf: example.expected, encoding: .utf8)
        var calls = try github.calls
        XCTAssertEqual(calls.map(\.description), [
            "POST /repos/\(Self.repo)/statuses/\(head)",
            "GET /repos/\(Self.repo)/issues/2/comments?per_page=100&page=1",
            "POST /repos/\(Self.repo)/issues/2/comments",
            "POST /repos/\(Self.repo)/statuses/\(head)",
        ])
        XCTAssertEqual(calls[0].body, ["state": "pending", "context": "tenantry/plan", "description": "Planning the tenant changes…"])
        XCTAssertEqual(calls[2].body["body"], "<!-- tenantry-plan -->\n" + expected + "\n" + footer(base, head))
        XCTAssertEqual(calls[3].body, ["state": "failure", "context": "tenantry/plan",
                                       "description": "3 guardrail errors: 2 tenants: 2 changed; objects: 1 created, 7 changed; guardrails: 3 errors"])

        // The next push fixes the guardrail errors: the same comment is edited, and the status turns green.
        let fixed = try git.commit(PlanPaths.example("renamed-file").head, message: "rename only")
        let synchronized = try planner().handle(body: try webhook("pull_request.synchronize.json", base: base, head: fixed))
        XCTAssertEqual(synchronized, .posted(state: .success, commentID: 1001, createdComment: false, verdict: .changes))
        calls = Array(try github.calls.dropFirst(4))
        XCTAssertEqual(calls.map(\.description), [
            "POST /repos/\(Self.repo)/statuses/\(fixed)",
            "GET /repos/\(Self.repo)/issues/2/comments?per_page=100&page=1",
            "PATCH /repos/\(Self.repo)/issues/comments/1001",
            "POST /repos/\(Self.repo)/statuses/\(fixed)",
        ])
        // The same bytes as planning the two folders directly.
        let direct = Planner.plan(base: PlanSide.load(example.base), head: PlanSide.load(PlanPaths.example("renamed-file").head))
        XCTAssertEqual(calls[2].body["body"], "<!-- tenantry-plan -->\n" + PlanWriter.markdown(direct) + "\n" + footer(base, fixed))
        XCTAssertEqual(calls[3].body, ["state": "success", "context": "tenantry/plan", "description": "platform.yaml: 1 change"])
        XCTAssertEqual(try github.commentCount, 1)
        XCTAssertEqual(try github.authorizations, ["Bearer ghp_secret-test-token"])
        XCTAssertEqual(waits.values, [])
    }

    func testARateLimited403IsRetriedAfterTheResetTime() throws {
        let example = PlanPaths.example("renamed-file")
        let base = try git.commit(example.base, message: "base")
        let head = try git.commit(example.head, message: "head")
        try github.rateLimitNext(reset: Int(Self.now.timeIntervalSince1970) + 30)
        let outcome = try planner().handle(body: try webhook("pull_request.opened.json", base: base, head: head))
        XCTAssertEqual(outcome, .posted(state: .success, commentID: 1001, createdComment: true, verdict: .unchanged))
        XCTAssertEqual(waits.values, [31], "waits until the reset time, plus a second")
        let calls = try github.calls.map(\.description)
        XCTAssertEqual(calls.prefix(2), ["POST /repos/\(Self.repo)/statuses/\(head)", "POST /repos/\(Self.repo)/statuses/\(head)"])
        XCTAssertEqual(calls.count, 5)
    }

    func testASecondaryLimitWaitsForRetryAfterAndTooManyLimitsGiveUpWithoutTheToken() throws {
        let waits = self.waits!
        let client = GitHubClient(apiURL: github.apiURL, token: GitHubToken("ghp_never-printed"), clock: GitHubClock(now: { Self.now }, sleep: { waits.add($0) }),
                                  maxRetries: 2)
        try github.secondaryLimitNext(retryAfter: 7)
        XCTAssertEqual(try client.comments(repository: Self.repo, number: 2), [])
        XCTAssertEqual(waits.values, [7])
        try github.rateLimitNext(reset: Int(Self.now.timeIntervalSince1970) - 5, status: 429)
        XCTAssertEqual(try client.comments(repository: Self.repo, number: 2), [])
        XCTAssertEqual(waits.values, [7, 1], "a reset already past waits one second")
        for _ in 0..<3 { try github.secondaryLimitNext(retryAfter: 1) }
        XCTAssertThrowsError(try client.comments(repository: Self.repo, number: 2)) { error in
            XCTAssertEqual((error as? GitHubError)?.kind, .rateLimited)
            XCTAssertFalse("\(error)".contains("ghp_never-printed"))
        }
        XCTAssertEqual("\(GitHubToken("ghp_never-printed"))", "GitHubToken(***)")
    }

    func testOtherActionsAreIgnoredWithoutAnyCall() throws {
        let outcome = try planner().handle(body: try webhook("pull_request.opened.json", base: String(repeating: "a", count: 40),
                                                            head: String(repeating: "b", count: 40), action: "closed"))
        XCTAssertEqual(outcome, .ignored(reason: "pull_request action \"closed\" does not change the code"))
        let issue = try Data(contentsOf: PlanPaths.samples.appendingPathComponent("issues.opened.json"))
        XCTAssertEqual(try planner().handle(body: Array(issue)), .ignored(reason: "not a pull_request event"))
        XCTAssertEqual(try github.calls, [])
    }

    func testAPlanThatCannotRunSetsTheErrorStatus() throws {
        let base = try git.commit(PlanPaths.example("renamed-file").base, message: "base")
        let missing = String(repeating: "c", count: 40)
        let outcome = try planner().handle(body: try webhook("pull_request.synchronize.json", base: base, head: missing))
        guard case .failed(let message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("no commit \"\(missing)\""), message)
        let calls = try github.calls
        XCTAssertEqual(calls.map(\.description), ["POST /repos/\(Self.repo)/statuses/\(missing)", "POST /repos/\(Self.repo)/statuses/\(missing)"])
        XCTAssertEqual(calls[1].body["state"], "error")
        XCTAssertLessThanOrEqual(calls[1].body["description"]?.count ?? 999, 140)
        XCTAssertTrue(calls[1].body["description"]?.hasPrefix("The plan could not run: ") == true)
    }

    func testTheTokenComesFromAFileOrTheEnvironment() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "  ghp_from-file\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try GitHubToken.resolve(file: file.path, environment: ["GITHUB_TOKEN": "ghp_env"]), GitHubToken("ghp_from-file"))
        XCTAssertEqual(try GitHubToken.resolve(file: nil, environment: ["GITHUB_TOKEN": "ghp_env"]), GitHubToken("ghp_env"))
        XCTAssertThrowsError(try GitHubToken.resolve(file: nil, environment: [:])) { error in
            XCTAssertEqual("\(error)", "no GitHub token: set GITHUB_TOKEN or give a token file")
        }
    }

    func testAnErrorStatusSaysWhatFailedAndWhatToDo() throws {
        let client = GitHubClient(apiURL: github.apiURL, token: GitHubToken("ghp_x"), clock: GitHubClock(now: { Self.now }, sleep: { _ in }))
        XCTAssertThrowsError(try client.updateComment(repository: Self.repo, id: 9999, body: "x")) { error in
            XCTAssertEqual((error as? GitHubError)?.kind, .status(404))
            XCTAssertEqual("\(error)", "PATCH /repos/\(Self.repo)/issues/comments/9999: GitHub answered 404 (Not Found); check the repository name, and that the token can see it")
        }
    }
}
