import Foundation
import HTTPClient
import Model
import Support
@testable import Webhooks
import XCTest

/// Real GitHub bodies (signed here), Jira and Slack bodies built from their documentation, through a real
/// loopback server with an in-memory SessionWriter.
final class WebhookDeliveryTests: XCTestCase {
    func testTheGitHubDocumentationTestVectorSigns() {
        XCTAssertEqual(SenderVerification.githubSignature(body: Array("Hello, World!".utf8), secret: "It's a Secret to Everybody"),
                       "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    func testALabelledIssueBecomesOneSessionInTheRoutedNamespace() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let response = try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), delivery: "d-labeled-1")
        XCTAssertEqual(response.status, 202, response.text)
        let name = WebhookService.sessionName(source: .github, deliveryID: "d-labeled-1")
        XCTAssertEqual(response.json["sessionId"], .string(name))
        XCTAssertEqual(response.json["namespace"], "hello-prod")
        XCTAssertEqual(response.json["status"], "accepted")
        XCTAssertNotNil(response.json["estimatedStartTime"]?.stringValue)
        fixture.eventually("the Session exists") { writer.object("hello-prod", name) != nil }
        let object = writer.object("hello-prod", name)!
        XCTAssertEqual(object["spec"]?["trigger"]?["source"], "github")
        XCTAssertEqual(object["spec"]?["trigger"]?["event"], "issues.labeled")
        XCTAssertEqual(object["spec"]?["trigger"]?["deliveryId"], "d-labeled-1")
        let payload = object["spec"]?["trigger"]?["payload"]?.objectValue ?? [:]
        XCTAssertEqual(payload["repository"], "Codertocat/Hello-World")
        XCTAssertEqual(payload["number"], .int(1))
        XCTAssertEqual(payload["title"], "Spelling error in the README file")
        XCTAssertEqual(payload["author"], "Codertocat")
        XCTAssertEqual(payload["label"], "bug")
        // Trimmed: none of the event's large objects are copied.
        for key in ["sender", "issue", "hook", "organization", "installation"] { XCTAssertNil(payload[key], key) }
        XCTAssertEqual(object["spec"]?["framework"]?["type"], "claude-code")
        XCTAssertEqual(object["spec"]?["framework"]?["config"]?["model"], "claude-sonnet-4-5")
        XCTAssertEqual(object["metadata"]?["labels"]?["tenantry.dev/tenant"], "hello")
        fixture.eventually("the journal entry is done") { fixture.server.service.journal.entryState(session: name) == .done }
        XCTAssertEqual(fixture.server.service.journal.depth, 0)
    }

    func testAnIssueOpenedWithATriggerLabelStartsASession() throws {
        let fixture = try WebhookFixture()
        let response = try fixture.github("issues", body: try WebhookFixture.sample("issues.opened.json"))
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.json["status"], "accepted")
    }

    func testAnIssueOpenedWithoutATriggerLabelIsIgnoredAndCounted() throws {
        let fixture = try WebhookFixture()
        let body = try editedSample("issues.opened.json") { set(&$0, ["issue", "labels"], []) }
        let response = try fixture.github("issues", body: body)
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.json["status"], "ignored")
        XCTAssertNil(response.json["sessionId"])
        XCTAssertEqual(fixture.server.service.metrics.requests(source: .github, outcome: .ignored), 1)
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 0)
    }

    func testPullRequestsOpenedAndSynchronisedStartSessionsWithTheHeadCommit() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        // A synchronize brings a new head commit (the sample repeats the opened one's): a new intent.
        let synchronized = try editedSample("pull_request.synchronize.json") {
            set(&$0, ["pull_request", "head", "sha"], "ec26c3e57ca3a959ca5aad62de7213c562f8c822")
        }
        for (file, body) in [("pull_request.opened.json", try WebhookFixture.sample("pull_request.opened.json")),
                             ("pull_request.synchronize.json", synchronized)] {
            let response = try fixture.github("pull_request", body: body, delivery: file)
            XCTAssertEqual(response.status, 202, file)
            XCTAssertEqual(response.json["status"], "accepted", file)
        }
        let name = WebhookService.sessionName(source: .github, deliveryID: "pull_request.synchronize.json")
        fixture.eventually("the PR Session exists") { writer.object("hello-prod", name) != nil }
        let payload = writer.object("hello-prod", name)?["spec"]?["trigger"]?["payload"]
        XCTAssertEqual(payload?["number"], .int(2))
        XCTAssertEqual(payload?["pullRequest"], .bool(true))
        XCTAssertEqual(payload?["headSha"], "ec26c3e57ca3a959ca5aad62de7213c562f8c822")
        // The same commit again (GitHub's reopened, or a second hook on the repository): the same session.
        let again = try fixture.github("pull_request", body: synchronized, delivery: "pull_request.synchronize.again")
        XCTAssertEqual(again.json["sessionId"], .string(name))
        XCTAssertEqual(again.json["duplicate"], .bool(true))
    }

    func testAnAgentCommentByAnOwnerStartsASessionWithTheModelItNames() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let body = try editedSample("issue_comment.created.json") { set(&$0, ["comment", "body"], "/agent model=claude-opus-4-1 fix the typo") }
        let response = try fixture.github("issue_comment", body: body, delivery: "comment-1")
        XCTAssertEqual(response.status, 202, response.text)
        XCTAssertEqual(response.json["status"], "accepted")
        let name = WebhookService.sessionName(source: .github, deliveryID: "comment-1")
        fixture.eventually("the Session exists") { writer.object("hello-prod", name) != nil }
        let object = writer.object("hello-prod", name)!
        XCTAssertEqual(object["spec"]?["framework"]?["config"]?["model"], "claude-opus-4-1")
        XCTAssertEqual(object["spec"]?["trigger"]?["payload"]?["command"], "/agent model=claude-opus-4-1 fix the typo")
    }

    func testCommentsWithoutTheCommandOrByAnUnlistedAuthorAreIgnored() throws {
        let fixture = try WebhookFixture()
        let plain = try fixture.github("issue_comment", body: try WebhookFixture.sample("issue_comment.created.json"))
        XCTAssertEqual(plain.json["status"], "ignored")
        let stranger = try editedSample("issue_comment.created.json") {
            set(&$0, ["comment", "body"], "/agent please")
            set(&$0, ["comment", "author_association"], "NONE")
        }
        let refused = try fixture.github("issue_comment", body: stranger)
        XCTAssertEqual(refused.json["status"], "ignored")
        XCTAssertEqual(refused.json["reason"]?.stringValue?.contains("NONE"), true)
        let lookalike = try editedSample("issue_comment.created.json") { set(&$0, ["comment", "body"], "/agentish do it") }
        XCTAssertEqual(try fixture.github("issue_comment", body: lookalike).json["status"], "ignored")
    }

    func testPingIsAnsweredAndPushIsIgnored() throws {
        let fixture = try WebhookFixture()
        let ping = try fixture.github("ping", body: try WebhookFixture.sample("ping.json"))
        XCTAssertEqual(ping.status, 200)
        XCTAssertEqual(ping.json["message"], "pong")
        let push = try fixture.github("push", body: try WebhookFixture.sample("push.json"))
        XCTAssertEqual(push.status, 202)
        XCTAssertEqual(push.json["status"], "ignored")
    }

    func testARedeliveryReturnsTheSameSessionAndCreatesNothingNew() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let body = try WebhookFixture.sample("issues.labeled.json")
        let first = try fixture.github("issues", body: body, delivery: "same-delivery")
        fixture.eventually("created") { writer.count == 1 }
        let second = try fixture.github("issues", body: body, delivery: "same-delivery")
        XCTAssertEqual(second.status, 202)
        XCTAssertEqual(second.json["sessionId"], first.json["sessionId"])
        XCTAssertEqual(second.json["duplicate"], .bool(true))
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 1)
        XCTAssertEqual(writer.createCalls, 1)
        // Also across a restart of the server on the same journal.
        try fixture.restart()
        let third = try fixture.github("issues", body: body, delivery: "same-delivery")
        XCTAssertEqual(third.json["sessionId"], first.json["sessionId"])
        XCTAssertEqual(writer.count, 1)
    }

    func testManyConcurrentDeliveriesShareCommitsAndAllBecomeSessions() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let journal = fixture.server.service.journal
        let ids = (0..<40).map { "burst-\($0)" }
        let bodies = try ids.indices.map { try labeledIssue(1000 + $0) }
        let statuses = LockedList<Int>()
        // The committer waits until ten requests are queued, so the first group is known to hold ten or more.
        journal.holdCommits()
        let group = DispatchGroup()
        for index in ids.indices {
            group.enter()
            Thread.detachNewThread {
                statuses.append((try? fixture.github("issues", body: bodies[index], delivery: ids[index]))?.status ?? 0)
                group.leave()
            }
        }
        fixture.eventually("ten requests wait for the committer") { journal.waitingAdmissions >= 10 }
        journal.releaseCommits()
        group.wait()
        XCTAssertEqual(statuses.items.filter { $0 == 202 }.count, ids.count)
        fixture.eventually("all created") { writer.count == ids.count }
        let stats = journal.commitStatistics
        XCTAssertEqual(stats.entries, UInt64(ids.count))
        // Commits were shared: one transaction (one fsync) wrote the whole queued group.
        XCTAssertGreaterThanOrEqual(journal.largestCommitGroup, 10, "\(stats)")
    }

    // MARK: Jira

    static func jiraBody(event: String = "jira:issue_updated", project: String = "SUP", labels: [String] = ["agent", "customer"],
                         changelog: [JSON]) -> JSON {
        // Shape from Atlassian's "Webhooks" documentation (issue_updated with a changelog).
        ["timestamp": 1_732_600_000_000, "webhookEvent": .string(event), "issue_event_type_name": "issue_generic",
         "user": ["accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"],
         "issue": ["id": "10002", "self": "https://acme.atlassian.net/rest/api/2/issue/10002", "key": .string("\(project)-17"),
                   "fields": ["summary": "Customer cannot reset password", "description": "Steps: …", "labels": .strings(labels),
                              "project": ["id": "10000", "key": .string(project), "name": "Support"], "status": ["name": "To Do"]]],
         "changelog": ["id": "10400", "items": .array(changelog)]]
    }

    func testAJiraLabelAddedOrTransitionStartsAPendingApprovalSession() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let labelled = try fixture.jira(body: Self.jiraBody(changelog: [["field": "labels", "fieldtype": "jira", "fromString": "customer", "toString": "agent customer"]]),
                                        delivery: "jira-1")
        XCTAssertEqual(labelled.status, 202, labelled.text)
        XCTAssertEqual(labelled.json["namespace"], "support-agents")
        let name = WebhookService.sessionName(source: .jira, deliveryID: "jira-1")
        fixture.eventually("created") { fixture.server.service.journal.entryState(session: name) == .done }
        let object = writer.object("support-agents", name)!
        XCTAssertEqual(object["metadata"]?["labels"]?["ambient.ai/approval"], "pending")
        XCTAssertEqual(object["spec"]?["policy"]?["approvalRequired"], .bool(true))
        XCTAssertEqual(object["spec"]?["trigger"]?["payload"]?["issue"], "SUP-17")
        XCTAssertEqual(object["spec"]?["framework"]?["config"]?["model"], "claude-haiku-4-5")

        let moved = try fixture.jira(body: Self.jiraBody(labels: [], changelog: [["field": "status", "fromString": "To Do", "toString": "Ready for Agent"]]))
        XCTAssertEqual(moved.json["status"], "accepted")
        let other = try fixture.jira(body: Self.jiraBody(labels: [], changelog: [["field": "status", "fromString": "To Do", "toString": "In Progress"]]))
        XCTAssertEqual(other.json["status"], "ignored")
        let unrouted = try fixture.jira(body: Self.jiraBody(project: "OPS", changelog: [["field": "labels", "fromString": "", "toString": "agent"]]))
        XCTAssertEqual(unrouted.json["status"], "ignored")
    }

    func testJiraWithAWrongSecretOrNoIdentifierIsRefused() throws {
        let fixture = try WebhookFixture()
        let body = Self.jiraBody(changelog: [])
        XCTAssertEqual(try fixture.jira(body: body, secret: "not-the-secret").status, 401)
        let bytes = body.compactBytes
        let noID = try fixture.send("POST", "/api/v1/webhooks/jira", body: bytes, headers: [
            ("X-Hub-Signature", SenderVerification.githubSignature(body: bytes, secret: TestSecrets.jira))])
        XCTAssertEqual(noID.status, 400)
        XCTAssertEqual(noID.json["error"], "invalid_payload")
    }

    // MARK: Slack

    static let mention: JSON = ["token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456",
                                "event": ["type": "app_mention", "user": "U123ABC456", "text": "<@U0LAN0Z89> summarise SUP-17",
                                          "ts": "1515449522.000016", "channel": "C04SUPPORT1", "event_ts": "1515449522.000016"],
                                "type": "event_callback", "event_id": "Ev123ABC456", "event_time": 1_515_449_522]

    func testASlackMentionStartsASessionAndItsRetriesAreDeduped() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let first = try fixture.slack(body: Self.mention.compactBytes)
        XCTAssertEqual(first.status, 202, first.text)
        XCTAssertEqual(first.json["namespace"], "support-agents")
        let retry = try fixture.slack(body: Self.mention.compactBytes, retry: 1)
        XCTAssertEqual(retry.json["sessionId"], first.json["sessionId"])
        XCTAssertEqual(retry.json["duplicate"], .bool(true))
        fixture.eventually("created") { writer.count == 1 }
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 1)
    }

    func testASlackSlashCommandFormStartsASession() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        // Field set from Slack's "Implementing slash commands" documentation.
        let form = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C04SUPPORT1&channel_name=support"
            + "&user_id=U2147483697&user_name=Steve&command=%2Fagent&text=summarise+ticket+SUP-17+model%3Dclaude-sonnet-4-5"
            + "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0"
        let response = try fixture.slack(body: Array(form.utf8), contentType: "application/x-www-form-urlencoded")
        XCTAssertEqual(response.status, 202, response.text)
        let name = response.json["sessionId"]?.stringValue ?? ""
        fixture.eventually("created") { writer.object("support-agents", name) != nil }
        let object = writer.object("support-agents", name)!
        XCTAssertEqual(object["spec"]?["trigger"]?["payload"]?["command"], "/agent summarise ticket SUP-17 model=claude-sonnet-4-5")
        XCTAssertEqual(object["spec"]?["framework"]?["config"]?["model"], "claude-sonnet-4-5")
        XCTAssertEqual(object["spec"]?["trigger"]?["payload"]?["author"], "Steve")
    }

    func testSlackUrlVerificationIsAnsweredWithTheChallenge() throws {
        let fixture = try WebhookFixture()
        let body: JSON = ["token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"]
        let response = try fixture.slack(body: body.compactBytes)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.json["challenge"], "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    }

    func testSlackRequestsOutsideTheFiveMinuteWindowAreRefused() throws {
        let fixture = try WebhookFixture()
        let now = Int64(Date().timeIntervalSince1970)
        let stale = try fixture.slack(body: Self.mention.compactBytes, timestamp: now - 301)
        XCTAssertEqual(stale.status, 401)
        XCTAssertEqual(stale.json["error"], "stale_request")
        let future = try fixture.slack(body: Self.mention.compactBytes, timestamp: now + 400)
        XCTAssertEqual(future.status, 401)
        let inside = try fixture.slack(body: Self.mention.compactBytes, timestamp: now - 240)
        XCTAssertEqual(inside.status, 202)
        let forged = try fixture.slack(body: Self.mention.compactBytes, secret: "guess")
        XCTAssertEqual(forged.status, 401)
        XCTAssertEqual(forged.json["error"], "invalid_signature")
    }
}

final class LockedList<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T] = []
    func append(_ value: T) { lock.withLock { values.append(value) } }
    var items: [T] { lock.withLock { values } }
}
