import Foundation
import Model

/// One delivery after its sender was proven and its body parsed: what happened, where (the route key),
/// under which delivery id, the facts triggers are matched against, and the trimmed payload a runner needs.
/// The namespace is never read from here: it comes from the route table or the API key.
public struct InboundEvent: Sendable, Hashable {
    public enum Facts: Sendable, Hashable {
        /// `issues` opened (with its labels) or labeled (with the label just added).
        case githubIssue(action: String, labels: [String], addedLabel: String?)
        /// `issue_comment` created on an issue or a pull request.
        case githubComment(action: String, body: String, authorAssociation: String)
        case githubPullRequest(action: String)
        /// A Jira issue event: the labels it has, the labels just added, the status it just moved to.
        case jira(labels: [String], addedLabels: [String], transition: String?)
        case slackMention(text: String)
        case slackCommand(command: String, text: String)
        /// An issue that arrived by transfer (`issues.transferred`, or `opened` carrying `changes.old_issue`):
        /// the same issue as before, so never a second session.
        case transferredIssue
        /// A generic delivery authenticated by its API key: always a request for a session.
        case generic
        /// Anything else (push, a reaction, an edited comment…): never starts a session.
        case other
    }

    public var source: WebhookSource
    /// `issues.labeled`, `pull_request.opened`, `jira:issue_updated`, `app_mention`, `/agent`…
    public var event: String
    public var deliveryID: String
    /// GitHub `owner/repo` (lower-cased), Jira project key, Slack channel ID; nil when the body names none.
    public var routeKey: String?
    public var facts: Facts
    public var payload: JSONObject
    /// Options a generic body may carry: `model`, `tools`.
    public var requestedModel: String? = nil
    public var requestedTools: [String]? = nil
    /// The sender when it is a bot: GitHub `sender.login` of a `Bot`, Slack `bot_id` (or `bot_message` without one).
    public var bot: String? = nil
    /// What the delivery is about (source, route, issue or PR number…); with the kind of trigger that
    /// matched it makes the intent (IntentWindow). nil: every delivery is its own intent.
    public var subject: String? = nil
}

extension InboundEvent {
    /// The subject of `parts` (JSON, so no separator inside a part can make two subjects collide); nil if one is missing.
    /// `prefix` + the whole number `value` holds; nil when it holds none.
    static func numbered(_ value: JSON?, _ prefix: String) -> String? {
        if case .int(let number) = value { return "\(prefix)\(number)" }
        return nil
    }

    static func subjectKey(_ source: WebhookSource, _ parts: [String?]) -> String? {
        guard parts.allSatisfy({ $0 != nil }) else { return nil }
        return JSON.strings([source.rawValue] + parts.compactMap { $0 }).compactText
    }
}

/// Reads the bodies of the four sources. Errors are 400 invalid_payload with what was missing.
public enum EventParser {
    /// Longest text (issue body, comment) kept in `spec.trigger.payload`.
    public static let maxTextBytes = 16 * 1024

    public static func parseJSON(_ body: Data) throws(WebhookFailure) -> JSONObject {
        let value: JSON
        do { value = try JSON(parsing: body) } catch {
            throw WebhookFailure(400, .invalidPayload, "the body is not valid JSON (\(error.description)); send Content-Type: application/json")
        }
        guard let object = value.objectValue else {
            throw WebhookFailure(400, .invalidPayload, "the body must be a JSON object")
        }
        return object
    }

    // MARK: GitHub

    public static func github(event: String, deliveryID: String, body: JSONObject) -> InboundEvent {
        let action = body["action"]?.stringValue
        let repository = body["repository"]?["full_name"]?.stringValue
        let name = action.map { "\(event).\($0)" } ?? event
        var payload: JSONObject = [:]
        if let repository { payload["repository"] = .string(repository) }
        var facts = InboundEvent.Facts.other
        var subject: String?
        switch event {
        case "issues":
            let issue = body["issue"]?.objectValue ?? [:]
            copyIssue(issue, into: &payload)
            let labels = labelNames(issue["labels"])
            let added = body["label"]?["name"]?.stringValue
            // GitHub's documented payloads: `transferred` carries changes.new_issue (sent to the old repository),
            // and the `opened` in the new repository carries changes.old_issue / old_repository.
            let transferred = action == "transferred" || (action == "opened" && body["changes"]?["old_issue"] != nil)
            if transferred {
                facts = .transferredIssue
            } else if let action, action == "opened" || action == "labeled" {
                facts = .githubIssue(action: action, labels: labels, addedLabel: added)
                subject = InboundEvent.subjectKey(.github, [repository?.lowercased(), InboundEvent.numbered(issue["number"], "#")])
            }
            if let added { payload["label"] = .string(added) }
        case "issue_comment":
            let issue = body["issue"]?.objectValue ?? [:]
            copyIssue(issue, into: &payload)
            if issue["pull_request"] != nil { payload["pullRequest"] = .bool(true) }
            let comment = body["comment"]?.objectValue ?? [:]
            let text = comment["body"]?.stringValue ?? ""
            payload["command"] = .string(trim(text))
            if let login = comment["user"]?["login"]?.stringValue { payload["author"] = .string(login) }
            if let url = comment["html_url"]?.stringValue { payload["url"] = .string(url) }
            facts = .githubComment(action: action ?? "", body: text, authorAssociation: comment["author_association"]?.stringValue ?? "NONE")
            subject = InboundEvent.subjectKey(.github, [repository?.lowercased(), InboundEvent.numbered(issue["number"], "#"),
                                                      InboundEvent.numbered(comment["id"], "comment ")])
        case "pull_request":
            let pull = body["pull_request"]?.objectValue ?? [:]
            copyIssue(pull, into: &payload)
            if let sha = pull["head"]?["sha"]?.stringValue { payload["headSha"] = .string(sha) }
            if let ref = pull["head"]?["ref"]?.stringValue { payload["headRef"] = .string(ref) }
            if let ref = pull["base"]?["ref"]?.stringValue { payload["baseRef"] = .string(ref) }
            payload["pullRequest"] = .bool(true)
            if let action { facts = .githubPullRequest(action: action) }
            // One session per pull request and head commit: `opened` and `reopened` of the same commit are one subject.
            subject = InboundEvent.subjectKey(.github, [repository?.lowercased(), InboundEvent.numbered(pull["number"], "#"),
                                                      pull["head"]?["sha"]?.stringValue])
        default:
            break
        }
        if payload["author"] == nil, let sender = body["sender"]?["login"]?.stringValue { payload["author"] = .string(sender) }
        var parsed = InboundEvent(source: .github, event: name, deliveryID: deliveryID, routeKey: repository?.lowercased(), facts: facts,
                                  payload: payload)
        if body["sender"]?["type"]?.stringValue == "Bot" { parsed.bot = body["sender"]?["login"]?.stringValue ?? "" }
        parsed.subject = subject
        return parsed
    }

    private static func copyIssue(_ issue: JSONObject, into payload: inout JSONObject) {
        if let number = issue["number"], case .int = number { payload["number"] = number }
        if let title = issue["title"]?.stringValue { payload["title"] = .string(trim(title)) }
        if let body = issue["body"]?.stringValue { payload["body"] = .string(trim(body)) }
        if let login = issue["user"]?["login"]?.stringValue { payload["author"] = .string(login) }
        if let url = issue["html_url"]?.stringValue { payload["url"] = .string(url) }
        let labels = labelNames(issue["labels"])
        if !labels.isEmpty { payload["labels"] = .strings(labels) }
    }

    private static func labelNames(_ value: JSON?) -> [String] {
        (value?.arrayValue ?? []).compactMap { $0["name"]?.stringValue ?? $0.stringValue }
    }

    /// Cuts text to `maxTextBytes` on a character boundary.
    static func trim(_ text: String) -> String {
        guard text.utf8.count > maxTextBytes else { return text }
        var out = ""
        var bytes = 0
        for character in text {
            bytes += character.utf8.count
            if bytes > maxTextBytes { break }
            out.append(character)
        }
        return out
    }

    // MARK: Jira

    /// A Jira Cloud webhook (`jira:issue_created`, `jira:issue_updated`): the project key routes it; the
    /// changelog says which labels were added and which status the issue moved to.
    public static func jira(deliveryID: String, body: JSONObject) throws(WebhookFailure) -> InboundEvent {
        guard let event = body["webhookEvent"]?.stringValue else {
            throw WebhookFailure(400, .invalidPayload, "the Jira body has no webhookEvent; is this a Jira webhook?")
        }
        let issue = body["issue"]?.objectValue
        let fields = issue?["fields"]?.objectValue ?? [:]
        let project = fields["project"]?["key"]?.stringValue
            ?? issue?["key"]?.stringValue.flatMap { $0.split(separator: "-").first.map(String.init) }
        let labels = (fields["labels"]?.arrayValue ?? []).compactMap(\.stringValue)
        var added: [String] = []
        var transition: String? = body["transition"]?["transitionName"]?.stringValue
        for item in body["changelog"]?["items"]?.arrayValue ?? [] {
            let field = item["field"]?.stringValue
            if field == "labels" {
                let before = Set((item["fromString"]?.stringValue ?? "").split(separator: " ").map(String.init))
                added += (item["toString"]?.stringValue ?? "").split(separator: " ").map(String.init).filter { !before.contains($0) }
            } else if field == "status", transition == nil {
                transition = item["toString"]?.stringValue
            }
        }
        if event == "jira:issue_created" { added = labels }
        var payload: JSONObject = [:]
        if let project { payload["project"] = .string(project) }
        if let key = issue?["key"]?.stringValue { payload["issue"] = .string(key) }
        if let summary = fields["summary"]?.stringValue { payload["title"] = .string(trim(summary)) }
        if let description = fields["description"]?.stringValue { payload["body"] = .string(trim(description)) }
        if !labels.isEmpty { payload["labels"] = .strings(labels) }
        if let user = body["user"]?["displayName"]?.stringValue ?? body["user"]?["accountId"]?.stringValue { payload["author"] = .string(user) }
        if let transition { payload["transition"] = .string(transition) }
        if let url = browseURL(issue) { payload["url"] = .string(url) }
        let facts: InboundEvent.Facts = event.hasPrefix("jira:issue_") ? .jira(labels: labels, addedLabels: added, transition: transition) : .other
        var parsed = InboundEvent(source: .jira, event: event, deliveryID: deliveryID, routeKey: project, facts: facts, payload: payload)
        parsed.subject = InboundEvent.subjectKey(.jira, [project, issue?["key"]?.stringValue])
        return parsed
    }

    /// The issue's page for people, `https://<site>/browse/KEY`, from its REST `self` link
    /// (`https://<site>[/context]/rest/api/2/issue/10002`); nil when either is missing.
    static func browseURL(_ issue: JSONObject?) -> String? {
        guard let key = issue?["key"]?.stringValue, let link = issue?["self"]?.stringValue,
              let rest = link.range(of: "/rest/api/"), link.hasPrefix("https://") || link.hasPrefix("http://") else { return nil }
        let site = link[..<rest.lowerBound]
        guard let encoded = key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) else { return nil }
        return "\(site)/browse/\(encoded)"
    }

    // MARK: Slack

    /// A Slack Events API callback (JSON). Its `event_id` is the delivery id, so Slack's retries dedupe.
    public static func slackEvent(body: JSONObject) throws(WebhookFailure) -> InboundEvent {
        guard let eventID = body["event_id"]?.stringValue, let event = body["event"]?.objectValue else {
            throw WebhookFailure(400, .invalidPayload, "the Slack body has no event_id or event; expected an Events API event_callback")
        }
        let type = event["type"]?.stringValue ?? "unknown"
        let text = event["text"]?.stringValue ?? ""
        var payload: JSONObject = [:]
        let channel = event["channel"]?.stringValue
        if let channel { payload["channel"] = .string(channel) }
        if let team = body["team_id"]?.stringValue { payload["team"] = .string(team) }
        if let user = event["user"]?.stringValue { payload["author"] = .string(user) }
        payload["command"] = .string(trim(text))
        if let ts = event["thread_ts"]?.stringValue ?? event["ts"]?.stringValue { payload["threadTs"] = .string(ts) }
        let facts: InboundEvent.Facts = type == "app_mention" ? .slackMention(text: text) : .other
        var parsed = InboundEvent(source: .slack, event: type, deliveryID: eventID, routeKey: channel, facts: facts, payload: payload)
        if let bot = event["bot_id"]?.stringValue { parsed.bot = bot } else if event["subtype"]?.stringValue == "bot_message" { parsed.bot = "" }
        // Slack sends one message as several events (app_mention, message); the message's ts names it.
        parsed.subject = InboundEvent.subjectKey(.slack, [channel, event["ts"]?.stringValue])
        return parsed
    }

    /// Slack interactivity types (`payload=` form bodies): buttons, modals, shortcuts.
    static let interactionTypes: Set<String> = ["block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut",
                                                "message_action", "interactive_message", "dialog_submission"]

    /// A Slack interactivity request (a form whose one field `payload` is JSON): the reason it starts nothing,
    /// for its 200 answer (Slack shows an error to the person unless it gets 200 within 3 s). nil: not one.
    public static func slackInteraction(form: [String: String]) -> String? {
        guard let text = form["payload"], form["command"] == nil else { return nil }
        let type = (try? JSON(parsing: Data(text.utf8)))?["type"]?.stringValue ?? "unknown"
        let named = interactionTypes.contains(type) ? type : "an interaction"
        return "Slack interactivity (\(named)) starts no session: Tenantry offers no buttons or forms"
    }

    /// A slash command (application/x-www-form-urlencoded). Slack sends no event id; `trigger_id` is unique per invocation.
    public static func slackCommand(form: [String: String]) throws(WebhookFailure) -> InboundEvent {
        guard let command = form["command"], let trigger = form["trigger_id"] else {
            throw WebhookFailure(400, .invalidPayload, "the Slack slash command has no command or trigger_id field")
        }
        let text = form["text"] ?? ""
        var payload: JSONObject = ["command": .string(trim("\(command) \(text)".trimmingCharacters(in: .whitespaces)))]
        if let channel = form["channel_id"] { payload["channel"] = .string(channel) }
        if let team = form["team_id"] { payload["team"] = .string(team) }
        if let user = form["user_name"] ?? form["user_id"] { payload["author"] = .string(user) }
        if let url = form["response_url"] { payload["responseUrl"] = .string(url) }
        return InboundEvent(source: .slack, event: command, deliveryID: trigger, routeKey: form["channel_id"],
                            facts: .slackCommand(command: command, text: text), payload: payload)
    }

    /// Decodes `a=1&b=two+words` (the body of a slash command).
    public static func formFields(_ body: Data) throws(WebhookFailure) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = parts.count == 2 ? decode(parts[1]) : "" else {
                throw WebhookFailure(400, .invalidPayload, "the form body has a field that is not valid percent-encoding")
            }
            fields[name] = value
        }
        return fields
    }

    // MARK: Generic

    /// `{"event"?, "description"|"prompt", "model"?, "tools"?, "repository"?, "metadata"?}`, authenticated by X-API-Key.
    public static func generic(deliveryID: String, body: JSONObject) throws(WebhookFailure) -> InboundEvent {
        let description = body["description"]?.stringValue ?? body["prompt"]?.stringValue
        guard let description, !description.isEmpty else {
            throw WebhookFailure(400, .invalidPayload, "a generic webhook body needs a non-empty \"description\" (what the session should do)")
        }
        var payload: JSONObject = ["command": .string(trim(description))]
        for key in ["repository", "title", "url", "author"] { if let value = body[key]?.stringValue { payload[key] = .string(trim(value)) } }
        var tools: [String]?
        if let list = body["tools"] {
            guard let items = list.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw WebhookFailure(400, .invalidPayload, "\"tools\" must be a list of tool names")
            }
            tools = items.compactMap(\.stringValue)
        }
        if let model = body["model"], model.stringValue == nil {
            throw WebhookFailure(400, .invalidPayload, "\"model\" must be a string")
        }
        return InboundEvent(source: .generic, event: body["event"]?.stringValue ?? "request", deliveryID: deliveryID, routeKey: nil,
                            facts: .generic, payload: payload, requestedModel: body["model"]?.stringValue, requestedTools: tools)
    }
}
