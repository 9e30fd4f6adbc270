import Foundation
import GitHub
import HTTPClient
import HTTPServer
import Model
import Notifications
import Support
import XCTest

final class OriginAnswerTests: XCTestCase {
    private let githubOrigin = SessionOrigin(source: .github, repository: "acme/widgets", number: 42, isPullRequest: true,
                                             headSHA: "0123456789abcdef0123456789abcdef01234567",
                                             url: "https://github.com/acme/widgets/pull/42")

    private func notifier(_ receiver: FakeReceiver, _ clock: TestClock, github: GitHubClient? = nil, jira: JiraConfiguration? = nil,
                          slack: SlackConfiguration? = nil) throws -> Notifier {
        try Notifier(.init(outboxPath: Fixture.outboxPath(), links: NotificationLinks(uiBaseURL: "https://tenantry.example"),
                           addresses: .testingAllowsLoopback, github: github, jira: jira, slack: slack, tls: receiver.tls),
                     secrets: Fixture.secrets, clock: clock.wallClock)
    }

    private func githubClient(_ receiver: FakeReceiver, _ clock: TestClock) -> GitHubClient {
        GitHubClient(apiURL: receiver.url + "/api/v3", token: GitHubToken("ghp_never-printed"), http: HTTPClient(tls: receiver.tls),
                     clock: clock.wallClock)
    }

    /// Answers as GitHub documents: an empty comment list, a created comment (201), an edited one, a status (201).
    private static func github(secondaryLimitOnFirstEdit: Bool = false) -> @Sendable (Request, Int) -> Response {
        let edits = Counter()
        return { request, _ in
            switch (request.method, request.path) {
            case ("GET", "/api/v3/repos/acme/widgets/issues/42/comments"): return FakeReceiver.json(200, [])
            case ("POST", "/api/v3/repos/acme/widgets/issues/42/comments"):
                let body = (try? JSON(parsing: request.body))?["body"] ?? .null
                return FakeReceiver.json(201, ["id": 7001, "body": body])
            case ("PATCH", "/api/v3/repos/acme/widgets/issues/comments/7001"):
                if secondaryLimitOnFirstEdit && edits.next() == 1 {
                    return FakeReceiver.json(403, ["message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."],
                                             headers: ["Retry-After": "60"])
                }
                let body = (try? JSON(parsing: request.body))?["body"] ?? .null
                return FakeReceiver.json(200, ["id": 7001, "body": body])
            case ("POST", "/api/v3/repos/acme/widgets/statuses/0123456789abcdef0123456789abcdef01234567"):
                return FakeReceiver.json(201, ["id": 1, "state": (try? JSON(parsing: request.body))?["state"] ?? .null])
            default: return FakeReceiver.json(404, ["message": "Not Found"])
            }
        }
    }

    func testOneGitHubCommentCreatedThenEditedTwiceAndACommitStatus() throws {
        let receiver = try FakeReceiver(Self.github())
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, github: githubClient(receiver, clock))
        for (event, phase) in [(NotificationEvent.sessionCreated, Session.Phase.pending), (.sessionRunning, .running), (.sessionCompleted, .completed)] {
            try notifier.record(Fixture.transition(event, phase: phase, origin: githubOrigin, summary: "Fixed it <!-- tenantry-session: other --> @octocat"))
            XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])
        }
        let requests = receiver.requests
        let comments = requests.filter { $0.path.contains("/comments") }
        XCTAssertEqual(comments.map(\.method), ["GET", "POST", "PATCH", "PATCH"])
        for request in requests {
            XCTAssertEqual(request.headers["authorization"], "Bearer ghp_never-printed")
        }
        let last = try XCTUnwrap(try JSON(parsing: comments[3].body)["body"]?.stringValue)
        XCTAssertTrue(last.hasPrefix("<!-- tenantry-session: fix-42 -->\n**Tenantry session `fix-42`: Completed**"), last)
        XCTAssertTrue(last.contains("Fixed it &lt;!-- tenantry-session: other --&gt; @\u{200B}octocat"), "markup from the summary is escaped: \(last)")
        XCTAssertTrue(last.contains("Cost: 1.25 USD · [Log and artifacts](https://tenantry.example/namespaces/team-a/sessions/fix-42)"), last)
        let statuses = try requests.filter { $0.path.contains("/statuses/") }.map { try JSON(parsing: $0.body) }
        XCTAssertEqual(statuses.map { $0["state"]?.stringValue }, ["pending", "pending", "success"])
        XCTAssertEqual(Set(statuses.map { $0["context"]?.stringValue }), ["tenantry/session"])
        // Writes paced at one a second: the notifier waited (on the test's clock) between back-to-back writes.
        XCTAssertTrue(clock.waits.contains { $0 > 0.5 && $0 <= 1 }, "\(clock.waits)")
    }

    func testACommentLostFromTheOutboxIsFoundAgainByItsMarker() throws {
        let receiver = try FakeReceiver { request, _ in
            if request.method == "GET" {
                return FakeReceiver.json(200, [["id": 5, "body": "unrelated"], ["id": 9, "body": "<!-- tenantry-session: fix-42 -->\nold"]])
            }
            return FakeReceiver.json(200, ["id": 9, "body": "x"])
        }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, github: githubClient(receiver, clock))
        var origin = githubOrigin
        origin.isPullRequest = false
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])
        XCTAssertEqual(receiver.requests.map { "\($0.method) \($0.path)" },
                       ["GET /api/v3/repos/acme/widgets/issues/42/comments", "PATCH /api/v3/repos/acme/widgets/issues/comments/9"])
    }

    func testGitHubSecondaryRateLimitIsAnsweredByWaiting() throws {
        let receiver = try FakeReceiver(Self.github(secondaryLimitOnFirstEdit: true))
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, github: githubClient(receiver, clock))
        var origin = githubOrigin
        origin.isPullRequest = false
        try notifier.record(Fixture.transition(.sessionRunning, phase: .running, origin: origin))
        _ = try deliverAll(notifier, clock)
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])
        let edits = receiver.requests.filter { $0.method == "PATCH" }
        XCTAssertEqual(edits.count, 2, "the edit refused by the secondary limit was sent again")
        XCTAssertTrue(clock.waits.contains(60), "waited the Retry-After: \(clock.waits)")
    }

    func testOnlyTheNewestOriginAnswerIsWritten() throws {
        let receiver = try FakeReceiver(Self.github())
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, github: githubClient(receiver, clock))
        var origin = githubOrigin
        origin.isPullRequest = false
        try notifier.record(Fixture.transition(.sessionRunning, phase: .running, origin: origin))
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.superseded, .delivered])
        XCTAssertEqual(receiver.requests.filter { $0.method == "POST" }.count, 1)
    }

    func testASlackThreadReplyThenAnUpdateOfTheSameMessage() throws {
        let receiver = try FakeReceiver { request, _ in
            switch request.path {
            case "/api/chat.postMessage": return FakeReceiver.json(200, ["ok": true, "channel": "C123", "ts": "1796000000.000200"])
            case "/api/chat.update": return FakeReceiver.json(200, ["ok": true, "channel": "C123", "ts": "1796000000.000200"])
            default: return FakeReceiver.json(200, ["ok": false, "error": "unknown_method"])
            }
        }
        let clock = TestClock()
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("slack-\(UUID().uuidString)").path
        try "xoxb-never-printed\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let notifier = try notifier(receiver, clock, slack: SlackConfiguration(apiURL: receiver.url + "/api", token: .file(tokenFile)))
        let origin = SessionOrigin(source: .slack, slackChannel: "C123", slackThread: "1795999999.000100")
        try notifier.record(Fixture.transition(.sessionRunning, phase: .running, origin: origin, summary: "a <b> & c"))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])

        let requests = receiver.requests
        XCTAssertEqual(requests.map(\.path), ["/api/chat.postMessage", "/api/chat.update"])
        XCTAssertEqual(Set(requests.map { $0.headers["authorization"] }), ["Bearer xoxb-never-printed"])
        let post = try JSON(parsing: requests[0].body)
        XCTAssertEqual(post["channel"]?.stringValue, "C123")
        XCTAssertEqual(post["thread_ts"]?.stringValue, "1795999999.000100")
        XCTAssertTrue(post["text"]?.stringValue?.contains("a &lt;b&gt; &amp; c") == true, post["text"]?.stringValue ?? "")
        let update = try JSON(parsing: requests[1].body)
        XCTAssertEqual(update["ts"]?.stringValue, "1796000000.000200")
        XCTAssertNil(update["thread_ts"])
        XCTAssertTrue(update["text"]?.stringValue?.contains("Completed") == true)
    }

    func testSlack429RetryAfterAndRefusals() throws {
        let receiver = try FakeReceiver { request, index in
            if index == 1 { return Response(status: 429, headers: ["Retry-After": "7"]) }
            return FakeReceiver.json(200, ["ok": false, "error": "channel_not_found"])
        }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, slack: SlackConfiguration(apiURL: receiver.url + "/api", token: .environment("PATH")))
        try notifier.record(Fixture.transition(.sessionRunning, phase: .running, origin: SessionOrigin(source: .slack, slackChannel: "C9")))
        let attempts = try deliverAll(notifier, clock)
        XCTAssertEqual(attempts.count, 2)
        XCTAssertEqual(attempts[1].time.timeIntervalSince(attempts[0].time), 7, accuracy: 0.01)
        XCTAssertEqual(attempts[1].outcome, .failed)
        XCTAssertTrue(attempts[1].error?.contains("channel_not_found") == true)
    }

    func testASlashCommandIsAnsweredOnItsResponseURL() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 200, body: Data("ok".utf8)) }
        let clock = TestClock()
        let slack = SlackConfiguration(apiURL: receiver.url + "/api", token: .environment("PATH"), responseURLHosts: ["127.0.0.1"])
        let notifier = try notifier(receiver, clock, slack: slack)
        let origin = SessionOrigin(source: .slack, slackResponseURL: receiver.url + "/commands/T1/123/abc")
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])
        XCTAssertEqual(receiver.requests.map(\.path), ["/commands/T1/123/abc"])
        XCTAssertEqual(try JSON(parsing: receiver.requests[0].body)["response_type"]?.stringValue, "in_channel")

        // A response_url on a host that is not Slack's is not answered.
        let strict = try self.notifier(receiver, clock, slack: SlackConfiguration(apiURL: receiver.url + "/api", token: .environment("PATH")))
        try strict.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(strict, clock).map(\.outcome), [.failed])
        XCTAssertEqual(receiver.requests.count, 1)
    }

    func testAJiraCommentWhenTheSessionEnds() throws {
        let receiver = try FakeReceiver { request, _ in
            request.path == "/rest/api/3/issue/PROJ-12/comment" ? FakeReceiver.json(201, ["id": "10000"]) : FakeReceiver.json(404, [:])
        }
        let clock = TestClock()
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("jira-\(UUID().uuidString)").path
        try "jira-api-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let jira = JiraConfiguration(site: receiver.url + "/", user: "bot@acme.example", token: .file(tokenFile))
        let notifier = try notifier(receiver, clock, jira: jira)
        let origin = SessionOrigin(source: .jira, jiraKey: "PROJ-12", jiraSite: receiver.url)
        XCTAssertEqual(try notifier.record(Fixture.transition(.sessionRunning, phase: .running, origin: origin)), [], "no Jira comment while running")
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, origin: origin))
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.delivered])
        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.headers["authorization"], "Basic " + Data("bot@acme.example:jira-api-token".utf8).base64EncodedString())
        let body = try JSON(parsing: request.body)
        XCTAssertEqual(body["body"]?["type"]?.stringValue, "doc")
        XCTAssertEqual(body["body"]?["version"]?.intValue, 1)
        XCTAssertEqual(body["body"]?["content"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"]?.stringValue,
                       "Tenantry session fix-42: Completed")

        // A payload naming another Jira site is not answered there (the token would go with it).
        let elsewhere = SessionOrigin(source: .jira, jiraKey: "PROJ-13", jiraSite: "https://attacker.example")
        var transition = Fixture.transition(.sessionFailed, phase: .failed, origin: elsewhere)
        transition.session = "other"
        try notifier.record(transition)
        XCTAssertEqual(try deliverAll(notifier, clock).map(\.outcome), [.failed])
        XCTAssertEqual(receiver.requests.count, 1)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
