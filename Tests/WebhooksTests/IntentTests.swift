import Foundation
import HTTPClient
import Model
import Support
@testable import Webhooks
import XCTest

/// Triggers start exactly the sessions people mean: one per intent, none for bots, transfers or Slack
/// buttons; and no payload text reaches a log line.
final class IntentTests: XCTestCase {
    // MARK: One session per intent

    func testAnIssueOpenedWithALabelThenLabeledStartsOneSessionAlsoAfterARestart() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        // GitHub sends both for an issue opened with a label, under two delivery ids.
        let opened = try fixture.github("issues", body: try WebhookFixture.sample("issues.opened.json"), delivery: "intent-opened")
        XCTAssertEqual(opened.status, 202, opened.text)
        XCTAssertEqual(opened.json["status"], "accepted")
        XCTAssertNil(opened.json["duplicate"])
        let labeled = try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), delivery: "intent-labeled")
        XCTAssertEqual(labeled.status, 202)
        XCTAssertEqual(labeled.json["sessionId"], opened.json["sessionId"])
        XCTAssertEqual(labeled.json["duplicate"], .bool(true))
        fixture.eventually("the Session exists") { writer.count == 1 }
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 1)
        XCTAssertEqual(fixture.server.service.metrics.requests(source: .github, outcome: .duplicate), 1)

        // The window is in the journal: a restart remembers it.
        try fixture.restart()
        let later = try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), delivery: "intent-labeled-again")
        XCTAssertEqual(later.json["sessionId"], opened.json["sessionId"])
        XCTAssertEqual(later.json["duplicate"], .bool(true))
        // Another issue, and a comment command on the same issue, are other intents.
        let other = try fixture.github("issues", body: try labeledIssue(2), delivery: "intent-other-issue")
        XCTAssertNil(other.json["duplicate"])
        XCTAssertNotEqual(other.json["sessionId"], opened.json["sessionId"])
        let comment = try editedSample("issue_comment.created.json") { set(&$0, ["comment", "body"], "/agent fix it") }
        let commented = try fixture.github("issue_comment", body: comment, delivery: "intent-comment")
        XCTAssertEqual(commented.json["status"], "accepted", commented.text)
        XCTAssertNil(commented.json["duplicate"])
        fixture.eventually("three Sessions") { writer.count == 3 }
        // The dry run says so too.
        let dry = try fixture.github("issues", body: try WebhookFixture.sample("issues.labeled.json"), delivery: "intent-dry", validate: true)
        XCTAssertEqual(dry.json["warnings"]?.arrayValue?.contains { $0.stringValue?.contains(opened.json["sessionId"]?.stringValue ?? "?") == true }, true,
                       dry.text)
    }

    func testTheSameIssueInTwoNamespacesIsTwoIntents() throws {
        let fixture = try WebhookFixture()
        let routed = try fixture.github("issues", body: try labeledIssue(55), delivery: "ns-routed")
        XCTAssertEqual(routed.json["namespace"], "hello-prod")
        // hello-staging's key picks that namespace for the same repository's issue: its own intent.
        let keyed = try fixture.github("issues", body: try labeledIssue(55), delivery: "ns-keyed", key: TestSecrets.helloGitHubKey)
        XCTAssertEqual(keyed.json["namespace"], "hello-staging", keyed.text)
        XCTAssertNil(keyed.json["duplicate"])
        XCTAssertNotEqual(keyed.json["sessionId"], routed.json["sessionId"])
    }

    func testConcurrentDeliveriesOfOneIntentStartExactlyOneSession() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let body = try labeledIssue(77)
        let answers = LockedList<JSON>()
        let group = DispatchGroup()
        for index in 0..<24 {
            group.enter()
            Thread.detachNewThread {
                if let response = try? fixture.github("issues", body: body, delivery: "same-intent-\(index)") { answers.append(response.json) }
                group.leave()
            }
        }
        group.wait()
        XCTAssertEqual(answers.items.count, 24)
        XCTAssertEqual(Set(answers.items.compactMap { $0["sessionId"]?.stringValue }).count, 1, "\(answers.items)")
        XCTAssertEqual(answers.items.filter { $0["duplicate"] == .bool(true) }.count, 23)
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 1)
        fixture.eventually("the Session exists") { writer.count == 1 }
    }

    func testTheIntentWindowComesFromTheTenantFileAndEnds() throws {
        let repo = try TestRepo.make()
        // octo's tenant file says `intentWindow: 2m`.
        let table = try TenantTable.load(repo: repo.path)
        let policy = try XCTUnwrap(table.policies["octo"])
        XCTAssertEqual(policy.triggers.intentWindowSeconds, 120)
        XCTAssertEqual(policy.spec["triggers"]?["intentWindow"], "2m")
        XCTAssertEqual(try XCTUnwrap(table.policies["hello-prod"]).triggers.intentWindowSeconds, 600, "the default is 10 minutes")
        func request(_ delivery: String) -> AdmissionRequest {
            AdmissionRequest(deliveryKey: "github:\(delivery)", sessionName: "s-\(delivery)", tenant: "octo", namespace: "octo",
                             model: "claude-sonnet-4-5", tools: [], estimatedCost: Amount(micros: 0), policy: policy,
                             budget: Budget(monthly: Amount("100.00")!, currency: "USD"), object: [:],
                             intent: IntentWindow.key(namespace: "octo", subject: "[\"github\",\"octo/repo\",\"#1\"]", kind: "label"))
        }
        var state = AdmissionState()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(state.decide(request("a"), now: start), .admitted(session: "s-a"))
        XCTAssertEqual(state.decide(request("b"), now: start + 119), .duplicate(session: "s-a"))
        XCTAssertEqual(state.decide(request("c"), now: start + 120), .admitted(session: "s-c"), "the window has ended")
        XCTAssertEqual(state.decide(request("d"), now: start + 130), .duplicate(session: "s-c"))
        // A batch that could not be written gives its intents back.
        state.undo([request("c")], now: start + 130)
        XCTAssertEqual(state.decide(request("e"), now: start + 131), .admitted(session: "s-e"))
    }

    // MARK: Bots

    func testBotsStartNoSessionUnlessTheTenantNamesThem() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        func fromBot(_ login: String, issue: Int) throws -> [UInt8] {
            try editedSample("issues.labeled.json") {
                set(&$0, ["issue", "number"], .int(issue))
                set(&$0, ["sender", "login"], .string(login))
                set(&$0, ["sender", "type"], "Bot")
            }
        }
        let dependabot = try fixture.github("issues", body: try fromBot("dependabot[bot]", issue: 301))
        XCTAssertEqual(dependabot.json["status"], "ignored", dependabot.text)
        XCTAssertEqual(dependabot.json["reason"]?.stringValue?.contains("triggers.github.allowBots"), true)
        // hello lists renovate[bot] under triggers.github.allowBots.
        let renovate = try fixture.github("issues", body: try fromBot("renovate[bot]", issue: 302))
        XCTAssertEqual(renovate.json["status"], "accepted", renovate.text)
        // The same login as a User is a person.
        let person = try fixture.github("issues", body: try editedSample("issues.labeled.json") {
            set(&$0, ["issue", "number"], .int(303))
            set(&$0, ["sender", "login"], "dependabot[bot]")
        })
        XCTAssertEqual(person.json["status"], "accepted")

        var botMention = WebhookDeliveryTests.mention.objectValue!
        set(&botMention, ["event", "bot_id"], "B0123BOTS")
        botMention["event_id"] = "Ev-bot-1"
        let slackBot = try fixture.slack(body: JSON.object(botMention).compactBytes)
        XCTAssertEqual(slackBot.json["status"], "ignored", slackBot.text)
        XCTAssertEqual(slackBot.json["reason"]?.stringValue?.contains("triggers.slack.allowBots"), true)
        var botMessage = WebhookDeliveryTests.mention.objectValue!
        set(&botMessage, ["event", "subtype"], "bot_message")
        botMessage["event_id"] = "Ev-bot-2"
        XCTAssertEqual(try fixture.slack(body: JSON.object(botMessage).compactBytes).json["status"], "ignored")
        fixture.eventually("two Sessions") { writer.count == 2 }
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 2)
    }

    // MARK: Slack interactivity, transfers, Jira

    func testSlackInteractivityIsAcknowledgedAndStartsNothing() throws {
        let fixture = try WebhookFixture()
        for type in ["block_actions", "view_submission"] {
            let payload = #"{"type":"\#(type)","team":{"id":"T0001"},"user":{"id":"U2147483697"},"trigger_id":"1334.5678","actions":[{"action_id":"approve"}]}"#
            let form = "payload=" + payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let response = try fixture.slack(body: Array(form.utf8), contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(response.status, 200, response.text)
            XCTAssertEqual(response.json["status"], "ignored")
            XCTAssertEqual(response.json["reason"]?.stringValue?.contains(type), true, response.text)
        }
        // Still signed: a forged one is refused.
        let forged = try fixture.slack(body: Array("payload=%7B%7D".utf8), contentType: "application/x-www-form-urlencoded", secret: "guess")
        XCTAssertEqual(forged.status, 401)
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 0)
    }

    func testATransferredIssueStartsNoSecondSession() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let first = try fixture.github("issues", body: try labeledIssue(40), delivery: "before-transfer")
        XCTAssertEqual(first.json["status"], "accepted")
        // GitHub's documented shapes: `transferred` (to the old repository) carries changes.new_issue and
        // new_repository; the new repository's `opened` carries changes.old_issue and old_repository.
        let transferred = try editedSample("issues.labeled.json") {
            $0["action"] = "transferred"
            set(&$0, ["issue", "number"], .int(40))
            $0["changes"] = ["new_issue": ["number": 7, "html_url": "https://github.com/Octocoders/Hello-World/issues/7"],
                             "new_repository": ["full_name": "Octocoders/Hello-World"]]
        }
        let gone = try fixture.github("issues", body: transferred)
        XCTAssertEqual(gone.json["status"], "ignored", gone.text)
        let arrived = try editedSample("issues.opened.json") {
            set(&$0, ["repository", "full_name"], "Codertocat/Hello-World")
            set(&$0, ["issue", "number"], .int(41))
            $0["changes"] = ["old_issue": ["number": 40, "html_url": "https://github.com/Codertocat/Hello-World/issues/40"],
                             "old_repository": ["full_name": "Codertocat/Hello-World"]]
        }
        let opened = try fixture.github("issues", body: arrived)
        XCTAssertEqual(opened.json["status"], "ignored", opened.text)
        XCTAssertEqual(opened.json["reason"]?.stringValue?.contains("transferred"), true)
        fixture.eventually("one Session") { writer.count == 1 }
        XCTAssertEqual(fixture.server.service.journal.commitStatistics.entries, 1)
    }

    func testTheJiraLinkIsTheIssuesBrowsePage() throws {
        let writer = RecordingWriter()
        let fixture = try WebhookFixture(writer: writer)
        let body = WebhookDeliveryTests.jiraBody(changelog: [["field": "labels", "fromString": "", "toString": "agent"]])
        let response = try fixture.jira(body: body, delivery: "jira-link")
        let name = try XCTUnwrap(response.json["sessionId"]?.stringValue, response.text)
        fixture.eventually("created") { writer.object("support-agents", name) != nil }
        XCTAssertEqual(writer.object("support-agents", name)?["spec"]?["trigger"]?["payload"]?["url"], "https://acme.atlassian.net/browse/SUP-17")
        // Jira Data Center under a context path keeps it.
        XCTAssertEqual(EventParser.browseURL(["key": "OPS-3", "self": "https://jira.example.com/jira/rest/api/2/issue/10002"]),
                       "https://jira.example.com/jira/browse/OPS-3")
        XCTAssertNil(EventParser.browseURL(["key": "OPS-3", "self": "javascript:alert(1)/rest/api/2/issue/1"]))
    }

    // MARK: Logs

    /// Every string field of every payload set to a marked hostile text (spaces, a newline, markup); ids too.
    func testHostileStringsInEveryPayloadFieldNeverReachTheLog() throws {
        let fixture = try WebhookFixture()
        let marker = "HOSTILE-7c1e"
        var counter = 0
        func hostile() -> String {
            counter += 1
            return "\(marker)-\(counter) <b>x</b>\n\u{1B}[31m ../../etc"
        }
        /// The same, for a header (no control characters there).
        func hostileHeader() -> String {
            counter += 1
            return "\(marker)-\(counter) <b>x</b> ../../etc"
        }
        /// Replaces every string in `value` (but the keys the test needs to keep, which are listed).
        func poison(_ value: JSON, keep: Set<String>, key: String = "") -> JSON {
            switch value {
            case .string: return keep.contains(key) ? value : .string(hostile())
            case .array(let items): return .array(items.map { poison($0, keep: keep, key: key) })
            case .object(let object): return .object(JSONObject(zip(object.keys, object.values).map { ($0, poison($1, keep: keep, key: $0)) }))
            default: return value
            }
        }
        // GitHub: the repository stays routed and the label stays a trigger, so the delivery gets to the end.
        for (event, file) in [("issues", "issues.labeled.json"), ("issues", "issues.opened.json"), ("issue_comment", "issue_comment.created.json"),
                              ("pull_request", "pull_request.opened.json"), ("push", "push.json")] {
            var object = poison(try JSON(parsing: Data(try WebhookFixture.sample(file))), keep: ["full_name", "name", "sha", "action"]).objectValue!
            if event == "issue_comment" { set(&object, ["comment", "body"], .string("/agent " + hostile())); set(&object, ["comment", "author_association"], .string(hostile())) }
            try fixture.github(event, body: JSON.object(object).compactBytes, delivery: hostileHeader())
        }
        try fixture.jira(body: poison(WebhookDeliveryTests.jiraBody(changelog: [["field": "labels", "fromString": "", "toString": "agent"]]),
                                      keep: ["webhookEvent", "key", "field", "toString"]), delivery: hostileHeader())
        try fixture.jira(body: poison(WebhookDeliveryTests.jiraBody(project: "NOPE", changelog: []), keep: ["webhookEvent", "key"]))
        var mention = poison(WebhookDeliveryTests.mention, keep: ["type", "channel"]).objectValue!
        mention["event_id"] = .string(hostile())
        try fixture.slack(body: JSON.object(mention).compactBytes)
        try fixture.slack(body: poison(WebhookDeliveryTests.mention, keep: ["type"]).compactBytes)
        let hostileCommand = "command=%2F\(marker)x&text=\(marker)&channel_id=C04SUPPORT1&user_name=\(marker)&trigger_id=\(marker)%20id"
        try fixture.slack(body: Array(hostileCommand.utf8), contentType: "application/x-www-form-urlencoded")
        let hostileRoute = "command=%2Fagent&text=go&channel_id=\(marker)&trigger_id=t-1"
        try fixture.slack(body: Array(hostileRoute.utf8), contentType: "application/x-www-form-urlencoded")
        let interaction = "payload=" + #"{"type":"\#(hostile())"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        try fixture.slack(body: Array(interaction.utf8), contentType: "application/x-www-form-urlencoded")
        try fixture.generic(key: TestSecrets.helloGenericKey, body: ["event": .string(hostile()), "description": .string(hostile()),
                                                                     "title": .string(hostile())], idempotencyKey: hostileHeader())

        let logs = fixture.logs.all
        XCTAssertGreaterThan(logs.filter { $0.contains(" accepted Session/") }.count, 3, "\(logs)")
        XCTAssertTrue(logs.contains { $0.contains(" ignored") }, "\(logs)")
        for line in logs {
            XCTAssertFalse(line.contains(marker), "payload text reached the log: \(line)")
            XCTAssertFalse(line.contains("\n") || line.contains("\u{1B}"), "a control character reached the log: \(line)")
            // Neither route keys nor trigger words: ids and outcomes only.
            for word in ["codertocat/hello-world", "Codertocat", "C04SUPPORT1", "SUP", "OWNER", "/agent", "bug"] {
                XCTAssertFalse(line.contains(word), "\(word) reached the log: \(line)")
            }
        }
    }
}
