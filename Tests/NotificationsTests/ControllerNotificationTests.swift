import Audit
import Foundation
import HTTPServer
import Model
import Notifications
import Support
import TestSupport
import XCTest

/// The wiring end to end: `tenantry controller` on a local cluster records each step of a real session in the
/// outbox and delivers it to fake GitHub, Slack and tenant receivers (TLS, on loopback, allowed by the platform's
/// allow list), recording every attempt in the session's history and the audit trail.
final class ControllerNotificationTests: XCTestCase {
    private static let allSessionEvents = ["session.created", "session.running", "session.completed", "session.failed", "session.stopped"]

    /// Answers as GitHub documents: comment list, create (201), edit (200), commit status (201); the first edit of
    /// the issue's comment (7042) gets the 403 secondary rate limit with Retry-After: 1.
    private static func fakeGitHub() -> @Sendable (Request, Int) -> Response {
        let edits = Counter()
        return { request, _ in
            let path = request.path
            let body = (try? JSON(parsing: request.body)) ?? .null
            if request.method == "GET", path.hasSuffix("/comments") { return FakeReceiver.json(200, []) }
            if request.method == "POST", path.hasPrefix("/api/v3/repos/acme/widgets/issues/"), path.hasSuffix("/comments") {
                let number = Int(path.split(separator: "/")[6]) ?? 0
                return FakeReceiver.json(201, ["id": .int(7000 + number), "body": body["body"] ?? .null])
            }
            if request.method == "PATCH", path.hasPrefix("/api/v3/repos/acme/widgets/issues/comments/") {
                if path.hasSuffix("/7042"), edits.next() == 1 {
                    return FakeReceiver.json(403, ["message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."],
                                             headers: ["Retry-After": "1"])
                }
                return FakeReceiver.json(200, ["id": .int(Int(path.split(separator: "/").last ?? "") ?? 0), "body": body["body"] ?? .null])
            }
            if request.method == "POST", path.hasPrefix("/api/v3/repos/acme/widgets/statuses/") {
                return FakeReceiver.json(201, ["id": 1, "state": body["state"] ?? .null])
            }
            return FakeReceiver.json(404, ["message": "Not Found"])
        }
    }

    /// Answers as Slack's Web API documents: `chat.postMessage` gives the message's ts, `chat.update` keeps it.
    private static func fakeSlack() -> @Sendable (Request, Int) -> Response {
        { request, _ in
            switch request.path {
            case "/api/chat.postMessage": return FakeReceiver.json(200, ["ok": true, "channel": "C0SLACK", "ts": "1796000000.000200"])
            case "/api/chat.update": return FakeReceiver.json(200, ["ok": true, "channel": "C0SLACK", "ts": "1796000000.000200"])
            default: return FakeReceiver.json(200, ["ok": false, "error": "unknown_method"])
            }
        }
    }

    private func commentText(_ request: Request) -> String { (try? JSON(parsing: request.body))?["body"]?.stringValue ?? "" }

    func testGitHubSlackAndSignedCallbacksFollowRealSessions() throws {
        let github = try FakeReceiver(Self.fakeGitHub())
        let slack = try FakeReceiver(Self.fakeSlack())
        let hooks = try FakeReceiver { _, _ in Response(status: 204) }
        let cluster = try NotifyingCluster(webhooks: [(hooks.url + "/hooks/tenantry", Self.allSessionEvents)], receivers: [github, slack, hooks])
        try cluster.startController(github: github.url + "/api/v3", slack: slack.url + "/api")

        // Three sessions whose runners wait for the test's gate, so each answer is seen before the next step
        // supersedes it (the newest state wins in the outbox): an issue session that waits for approval first
        // (held queued until the test approves), a pull request and a Slack mention.
        let gated = "while [ ! -f '\(cluster.gate.path)' ]; do sleep 0.05; done; echo"
        try cluster.createSession("gh-issue", payload: ["repository": "acme/widgets", "number": 42, "title": "Fix rounding",
                                                        "url": "https://github.com/acme/widgets/issues/42"],
                                  command: gated + " fixed the rounding", approvalRequired: true)
        let sha = cluster.headCommit
        try cluster.createSession("gh-pr", payload: ["repository": "acme/widgets", "number": 7, "pullRequest": true, "headSha": .string(sha),
                                                     "url": "https://github.com/acme/widgets/pull/7"], command: gated + " reviewed")
        try cluster.createSession("slack-thread", source: .slack, payload: ["channel": "C0SLACK", "threadTs": "1796000000.000100",
                                                                            "command": "@tenantry fix it"], command: gated + " answered")
        func comments(_ number: Int) -> [Request] {
            github.requests.filter { $0.path == "/api/v3/repos/acme/widgets/issues/\(number)/comments" || $0.path == "/api/v3/repos/acme/widgets/issues/comments/\(7000 + number)" }
        }
        func statuses() throws -> [JSON] {
            try github.requests.filter { $0.path == "/api/v3/repos/acme/widgets/statuses/\(sha)" }.map { try JSON(parsing: $0.body) }
        }
        // The headline's phase (`Pending, waiting for approval` while it waits).
        func phase(_ text: String) -> String { Session.Phase.allCases.map(\.rawValue).first { text.contains("`: \($0)**") || text.contains("`: \($0),") } ?? "?" }
        try eventually("the issue's comment is created while the session waits for approval", within: 120) {
            comments(42).contains { $0.method == "POST" && phase(commentText($0)) == "Pending" }
        }
        try cluster.patchSpec("gh-issue", ["approval": ["decision": "approved", "by": "lead@example.com"]])
        try eventually("the comment is edited to Running (after GitHub's secondary rate limit is waited out)", within: 120) {
            comments(42).last.map { $0.method == "PATCH" && phase(commentText($0)) == "Running" } == true
        }
        try eventually("the pull request's commit status is pending", within: 120) { try statuses().first?["state"]?.stringValue == "pending" }
        try eventually("the Slack thread has its reply", within: 120) { slack.requests.contains { $0.path == "/api/chat.postMessage" } }
        XCTAssertEqual(try cluster.status("gh-issue").phase, .running)
        FileManager.default.createFile(atPath: cluster.gate.path, contents: Data())

        try eventually("the comment is edited to Completed", within: 120) {
            comments(42).last.map { $0.method == "PATCH" && phase(commentText($0)) == "Completed" } == true
        }
        let issueRequests = comments(42)
        XCTAssertEqual(Array(issueRequests.map(\.method).prefix(2)), ["GET", "POST"], "the marker looked for once, the comment created once")
        XCTAssertEqual(Set(issueRequests.dropFirst(2).map(\.method)), ["PATCH"], "then only edited in place")
        let patches = issueRequests.filter { $0.method == "PATCH" }
        XCTAssertEqual(Set(patches.map(\.path)), ["/api/v3/repos/acme/widgets/issues/comments/7042"])
        XCTAssertEqual(commentText(patches[0]), commentText(patches[1]), "the edit refused by the secondary rate limit is sent again as it was")
        // What the issue showed, write after write (the refused edit once): queued → running → completed.
        var shown: [String] = []
        for request in [issueRequests[1]] + patches.dropFirst() where shown.last != phase(commentText(request)) { shown.append(phase(commentText(request))) }
        XCTAssertEqual(shown, ["Pending", "Running", "Completed"])
        XCTAssertGreaterThanOrEqual(patches.count - 1, 2, "edited at least twice")
        let final = commentText(patches.last!)
        XCTAssertTrue(commentText(issueRequests[1]).contains("`gh-issue`: Pending, waiting for approval**"), commentText(issueRequests[1]))
        XCTAssertTrue(final.hasPrefix("<!-- tenantry-session: gh-issue -->\n**Tenantry session `gh-issue`: Completed**"), final)
        XCTAssertTrue(final.contains("fixed the rounding"), final)
        XCTAssertTrue(final.contains("[Log and artifacts](https://ui.tenantry.example/namespaces/acme/sessions/gh-issue)"), final)

        // The pull request: commit status tenantry/session on its head commit, pending then success.
        try eventually("the commit status says success", within: 120) { try statuses().last?["state"]?.stringValue == "success" }
        let states = try statuses()
        XCTAssertEqual(Set(states.dropLast().map { $0["state"]?.stringValue }), ["pending"])
        XCTAssertEqual(Set(states.map { $0["context"]?.stringValue }), ["tenantry/session"])
        XCTAssertEqual(states.last?["target_url"]?.stringValue, "https://ui.tenantry.example/namespaces/acme/sessions/gh-pr")
        XCTAssertEqual(comments(7).filter { $0.method == "POST" }.count, 1)
        for request in github.requests { XCTAssertEqual(request.headers["authorization"], "Bearer ghp_e2e-never-printed") }

        // The Slack mention: a reply in its thread, then updates of that same message.
        try eventually("the Slack reply is updated to Completed", within: 120) {
            slack.requests.last.map { $0.path == "/api/chat.update" && ((try? JSON(parsing: $0.body))?["text"]?.stringValue ?? "").contains("Completed") } == true
        }
        let posts = slack.requests.filter { $0.path == "/api/chat.postMessage" }
        XCTAssertEqual(posts.count, 1, "one reply; later steps update it")
        let reply = try JSON(parsing: posts[0].body)
        XCTAssertEqual(reply["channel"]?.stringValue, "C0SLACK")
        XCTAssertEqual(reply["thread_ts"]?.stringValue, "1796000000.000100")
        for update in slack.requests.filter({ $0.path == "/api/chat.update" }) {
            XCTAssertEqual(try JSON(parsing: update.body)["ts"]?.stringValue, "1796000000.000200")
        }
        for request in slack.requests { XCTAssertEqual(request.headers["authorization"], "Bearer xoxb-e2e-never-printed") }

        // The tenant's callbacks: each step of each session once, signed with the Secret's value, with its own delivery id.
        try eventually("the callbacks of every step arrive", within: 120) {
            hooks.requests.filter { $0.headers["x-tenantry-event"] == "session.completed" }.count == 3
        }
        let issueHooks = try hooks.requests.filter { try JSON(parsing: $0.body)["session"]?.stringValue == "gh-issue" }
        XCTAssertEqual(issueHooks.map { $0.headers["x-tenantry-event"] }, ["session.created", "session.running", "session.completed"])
        XCTAssertEqual(Set(hooks.requests.compactMap { $0.headers["x-tenantry-delivery"] }).count, hooks.requests.count, "one delivery id per intent")
        for request in hooks.requests {
            verifySignature(request)
            XCTAssertEqual(request.path, "/hooks/tenantry")
        }
        let completed = try JSON(parsing: issueHooks[2].body)
        XCTAssertEqual(completed["tenant"]?.stringValue, "acme")
        XCTAssertEqual(completed["phase"]?.stringValue, "Completed")
        XCTAssertEqual(completed["summary"]?.stringValue, "fixed the rounding")
        XCTAssertEqual(completed["links"]?["origin"]?.stringValue, "https://github.com/acme/widgets/issues/42")
        XCTAssertEqual(completed["links"]?["api"]?.stringValue, "https://api.tenantry.example/apis/ambient.ai/v1alpha1/namespaces/acme/sessions/gh-issue")

        // Every attempt is in the session's history (written by the controller) and the audit trail.
        try eventually("the history holds the delivered completion for both targets", within: 60) {
            let entries = try cluster.notifications("gh-issue").filter { $0["event"]?.stringValue == "session.completed" && $0["outcome"]?.stringValue == "delivered" }
            return Set(entries.compactMap { $0["target"]?.stringValue }) == ["github", "webhook https://127.0.0.1:\(hooks.port)/hooks/tenantry"]
        }
        let audited = try AuditLog(path: cluster.auditPath).entries(namespace: "acme", session: "gh-issue", action: "notify", limit: 100)
        XCTAssertTrue(audited.contains { $0.record.outcome == "delivered" && $0.record.details["target"]?.stringValue == "github"
                && $0.record.details["event"]?.stringValue == "session.completed" }, "\(audited.map(\.record))")
        XCTAssertEqual(audited.filter { $0.record.details["target"]?.stringValue?.hasPrefix("webhook") == true && $0.record.outcome == "delivered" }.count, 3)
        XCTAssertTrue(try AuditLog(path: cluster.auditPath).verify().intact)
        let log = cluster.controllerLog
        for secret in ["ghp_e2e-never-printed", "xoxb-e2e-never-printed", String(decoding: Fixture.secret, as: UTF8.self)] {
            XCTAssertFalse(log.contains(secret), "the controller never prints a token or the signing secret")
        }
    }

    func testRetriesAFinalAnswerAndTheBudgetThreshold() throws {
        let arrivals = Stamps()
        let flaky = try FakeReceiver { _, index in
            arrivals.add(Date())
            return index <= 3 ? Response(status: 503) : Response(status: 200)
        }
        let refusing = try FakeReceiver { _, _ in Response(status: 400) }
        let budget = try FakeReceiver { _, _ in Response(status: 200) }
        let cluster = try NotifyingCluster(webhooks: [(flaky.url + "/flaky", ["session.completed"]), (refusing.url + "/refusing", ["session.completed"]),
                                                      (budget.url + "/budget", ["budget.threshold"])],
                                           receivers: [flaky, refusing, budget])
        try cluster.startController()
        let usage = #"{"type":"usage","inputTokens":1000,"outputTokens":200,"cost":"85.00"}"#
        try cluster.createSession("costly", payload: ["title": "Expensive"], command: "echo '\(usage)'; echo spent a lot",
                                  estimate: "90.00")

        try eventually("the flaky receiver gets it on the 4th attempt", within: 120) { flaky.requests.count == 4 }
        let ids = Set(flaky.requests.compactMap { $0.headers["x-tenantry-delivery"] })
        XCTAssertEqual(ids.count, 1, "the same delivery id on every retry")
        try eventually("the history records the 4 attempts", within: 60) {
            try cluster.notifications("costly").filter { $0["target"]?.stringValue == "webhook https://127.0.0.1:\(flaky.port)/flaky" }.count == 4
        }
        let flakyEntries = try cluster.status("costly").history.filter { $0.event == "Notification" }.filter { $0.data["target"]?.stringValue == "webhook https://127.0.0.1:\(flaky.port)/flaky" }
        XCTAssertEqual(flakyEntries.map { $0.data["outcome"]?.stringValue }, ["retrying", "retrying", "retrying", "delivered"])
        XCTAssertEqual(flakyEntries.map { $0.data["status"]?.intValue }, [503, 503, 503, 200])
        let times = arrivals.all
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
        guard gaps.count == 3 else { return XCTFail("gaps: \(gaps)") }
        XCTAssertTrue(gaps[0] >= 0.7 && gaps[1] > gaps[0] && gaps[2] > gaps[1], "growing gaps: \(gaps)")

        // A 400 is final: one attempt, recorded as failed.
        let refused = try cluster.notifications("costly").filter { $0["target"]?.stringValue == "webhook https://127.0.0.1:\(refusing.port)/refusing" }
        XCTAssertEqual(refused.map { $0["outcome"]?.stringValue }, ["failed"])
        XCTAssertEqual(refused.first?["status"]?.intValue, 400)
        XCTAssertEqual(refusing.requests.count, 1)

        // 85.00 of 100.00 spent: the 80 % threshold, once, signed, to the receiver subscribed to it.
        try eventually("the budget threshold callback arrives", within: 60) { budget.requests.count == 1 }
        let threshold = try JSON(parsing: budget.requests[0].body)
        XCTAssertEqual(budget.requests[0].headers["x-tenantry-event"], "budget.threshold")
        XCTAssertEqual(threshold["budget"]?["percent"]?.intValue, 80)
        XCTAssertEqual(threshold["tenant"]?.stringValue, "acme")
        verifySignature(budget.requests[0])
        for request in flaky.requests + refusing.requests { verifySignature(request) }
        let audit = try AuditLog(path: cluster.auditPath).entries(namespace: "acme", session: "costly", action: "notify", limit: 100)
        XCTAssertEqual(audit.filter { $0.record.details["target"]?.stringValue?.hasSuffix("/flaky") == true }.count, 4)
    }

    func testKilledMidRetryDeliversOnceAfterRestartWithTheSameDeliveryID() throws {
        let failing = Flag(true)
        let receiver = try FakeReceiver { _, _ in failing.value ? Response(status: 503) : Response(status: 200) }
        // And a receiver that does not answer its first request: that attempt times out and is retried.
        let release = DispatchSemaphore(value: 0)
        let hanging = try FakeReceiver { _, index in
            if index == 1 { _ = release.wait(timeout: .now() + 60) }
            return Response(status: 200)
        }
        defer { release.signal() }
        let cluster = try NotifyingCluster(webhooks: [(receiver.url + "/hook", ["session.completed"]), (hanging.url + "/hanging", ["session.completed"])],
                                           receivers: [receiver, hanging])
        try cluster.startController(timeout: 2)
        try cluster.createSession("killed", payload: ["title": "Survive"], command: "echo done")
        func hookRows() throws -> [OutboxEntry] {
            try Outbox(path: cluster.outboxPath).all().filter { $0.intent == "acme/killed/session.completed" && $0.target.description.hasSuffix("/hook") }
        }
        // Killed once the outbox has recorded the second attempt (the receiver sees a request before the outbox records it).
        try eventually("two failed attempts, recorded", within: 120) { try receiver.requests.count == 2 && hookRows().first?.attempts == 2 }
        cluster.killController()
        let before = try hookRows()
        XCTAssertEqual(before.map(\.state), [.pending])
        XCTAssertEqual(before.first?.attempts, 2)
        failing.value = false
        try cluster.startController(timeout: 2)
        try eventually("delivered after the restart", within: 120) {
            try hookRows().first?.state == .delivered
        }
        let after = try hookRows()
        XCTAssertEqual(after.count, 1, "the restarted controller re-derived nothing new")
        XCTAssertEqual(after.first?.delivery, before.first?.delivery)
        XCTAssertEqual(after.first?.attempts, 3)
        XCTAssertEqual(receiver.requests.count, 3, "delivered once")
        let deliveryIDs: [String] = receiver.requests.compactMap { $0.headers["x-tenantry-delivery"] }
        XCTAssertEqual(deliveryIDs, Array(repeating: before.first?.delivery ?? "?", count: 3))
        for request in receiver.requests { verifySignature(request) }

        // The audit trail (durable, unlike the history notes a killed controller had not written yet) has the timeout.
        try eventually("the hanging receiver's retry is delivered", within: 120) {
            try Outbox(path: cluster.outboxPath).all().filter { $0.intent == "acme/killed/session.completed" }.allSatisfy { $0.state == .delivered }
        }
        let hung = try AuditLog(path: cluster.auditPath).entries(namespace: "acme", session: "killed", action: "notify", limit: 100).reversed()
            .filter { $0.record.details["target"]?.stringValue == "webhook https://127.0.0.1:\(hanging.port)/hanging" }
        XCTAssertEqual(hung.first?.record.outcome, "retrying")
        XCTAssertNil(hung.first?.record.details["status"])
        XCTAssertTrue(hung.first?.record.details["error"]?.stringValue?.contains("no answer") == true, "\(hung.map(\.record))")
        XCTAssertEqual(hung.last?.record.outcome, "delivered")
        release.signal()
    }

    func testALoopbackReceiverIsRefusedUnlessThePlatformAllowsIt() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 200) }
        // The platform names no allowCIDRs: the default denies loopback, whatever the name resolves to.
        let cluster = try NotifyingCluster(webhooks: [("https://localhost:\(receiver.port)/hook", ["session.completed"])], allowLoopback: false,
                                           receivers: [receiver])
        try cluster.startController()
        try cluster.createSession("ssrf", payload: ["title": "Reach in"], command: "echo done")
        try eventually("the refusal is in the history", within: 120) { try !cluster.notifications("ssrf").isEmpty }
        let entries = try cluster.notifications("ssrf")
        XCTAssertEqual(entries.map { $0["outcome"]?.stringValue }, ["failed"])
        let error = entries.first?["error"]?.stringValue ?? ""
        XCTAssertTrue(error.contains("127.0.0.1") || error.contains("::1"), error)
        XCTAssertEqual(receiver.requests.count, 0, "nothing was sent")
    }
}

extension ControllerNotificationTests {
    func testApprovalStopAndAJiraAnswer() throws {
        let hooks = try FakeReceiver { _, _ in Response(status: 200) }
        let jira = try FakeReceiver { request, _ in
            request.method == "POST" && request.path == "/rest/api/3/issue/PROJ-7/comment"
                ? FakeReceiver.json(201, ["id": "10001"]) : FakeReceiver.json(404, ["errorMessages": ["Issue does not exist"]])
        }
        let events = ["session.created", "approval.required", "approval.decided", "session.completed", "session.stopped"]
        let cluster = try NotifyingCluster(webhooks: [(hooks.url + "/hook", events)], receivers: [hooks, jira])
        try cluster.startController(jira: jira.url)
        func sent(_ session: String) -> [String] {
            hooks.requests.filter { ((try? JSON(parsing: $0.body))?["session"]?.stringValue) == session }.compactMap { $0.headers["x-tenantry-event"] }
        }

        // Waits for an approver, is approved, runs to Completed; its Jira issue is answered when it waits and when it ends.
        try cluster.createSession("needs-ok", source: .jira, payload: ["issue": "PROJ-7", "url": .string(jira.url + "/browse/PROJ-7")],
                                  command: "echo approved work", approvalRequired: true)
        try eventually("approval.required is sent", within: 120) { sent("needs-ok") == ["session.created", "approval.required"] }
        try eventually("Jira is told that it waits", within: 60) { jira.requests.count == 1 }
        try cluster.patchSpec("needs-ok", ["approval": ["decision": "approved", "by": "lead@example.com"]])
        try eventually("needs-ok completes and says so", within: 120) { sent("needs-ok").last == "session.completed" }
        XCTAssertEqual(sent("needs-ok"), ["session.created", "approval.required", "approval.decided", "session.completed"])
        try eventually("Jira is answered twice", within: 60) { jira.requests.count == 2 }
        let texts = jira.requests.map { String(decoding: $0.body, as: UTF8.self) }
        XCTAssertTrue(texts[0].contains("Pending"), texts[0])
        XCTAssertTrue(texts[1].contains("Completed") && texts[1].contains("approved work"), texts[1])
        XCTAssertEqual(jira.requests[0].headers["authorization"], "Basic " + Data("bot@example.com:jira-e2e-never-printed".utf8).base64EncodedString())

        // Stopped while it waits: approval.required, then session.stopped with the user's reason.
        try cluster.createSession("to-stop", payload: ["title": "Never mind"], command: "echo never runs", approvalRequired: true)
        try eventually("to-stop waits for approval", within: 120) { sent("to-stop") == ["session.created", "approval.required"] }
        try cluster.patchSpec("to-stop", ["stop": true, "stoppedBy": "ada@example.com"])
        try eventually("session.stopped is sent", within: 120) { sent("to-stop").last == "session.stopped" }
        XCTAssertEqual(sent("to-stop"), ["session.created", "approval.required", "session.stopped"])
        let stopped = try XCTUnwrap(hooks.requests.last.map { try JSON(parsing: $0.body) })
        XCTAssertEqual(stopped["phase"]?.stringValue, "Stopped")
        XCTAssertEqual(stopped["reason"]?.stringValue, "UserRequested")
        for request in hooks.requests { verifySignature(request) }
        XCTAssertFalse(cluster.controllerLog.contains("jira-e2e-never-printed"))
    }
}

/// When a fake receiver was called.
final class Stamps: @unchecked Sendable {
    private let lock = NSLock()
    private var dates: [Date] = []
    func add(_ date: Date) { lock.lock(); dates.append(date); lock.unlock() }
    var all: [Date] { lock.lock(); defer { lock.unlock() }; return dates }
}

/// A switch the test flips while a fake receiver reads it.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Bool
    init(_ value: Bool) { current = value }
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }
}
