import Foundation
import GitHub
import HTTPClient
import Model
import Support

/// Jira: the configured site (never one a payload names) and its token. With `user`, Basic auth as Jira Cloud
/// takes an API token (`user:token`); without, a Bearer personal access token (Jira Data Center).
public struct JiraConfiguration: Sendable, Hashable {
    public var site: String
    public var user: String?
    public var token: Credential

    public init(site: String, user: String? = nil, token: Credential) {
        var site = site
        while site.hasSuffix("/") { site.removeLast() }
        self.site = site
        self.user = user
        self.token = token
    }
}

/// Slack: the Web API base (`https://slack.com/api`), the bot token, and the hosts a slash command's
/// `response_url` may point at (it comes from the payload, so it is checked like a webhook URL too).
public struct SlackConfiguration: Sendable, Hashable {
    public var apiURL: String
    public var token: Credential
    public var responseURLHosts: [String]

    public init(apiURL: String = "https://slack.com/api", token: Credential, responseURLHosts: [String] = ["hooks.slack.com"]) {
        var apiURL = apiURL
        while apiURL.hasSuffix("/") { apiURL.removeLast() }
        self.apiURL = apiURL
        self.token = token
        self.responseURLHosts = responseURLHosts
    }
}

/// Writes the answer on the session's origin: one GitHub comment per session edited in place (and a commit
/// status on a pull request), a Jira comment when the session ends or waits for approval, a Slack thread reply
/// then updated. Writes are paced per credential (GitHub 1/s and 80/min) and per Slack channel (1/s).
struct OriginAnswers: Sendable {
    let outbox: Outbox
    let github: GitHubClient?
    let jira: JiraConfiguration?
    let slack: SlackConfiguration?
    let http: HTTPClient
    let addresses: AddressPolicy
    let secrets: SecretLookup
    let timeout: TimeInterval
    let githubPacer: WritePacer
    let slackPacer: WritePacer

    static let statusContext = "tenantry/session"

    /// Which origin targets an event goes to.
    static func targets(for origin: SessionOrigin, event: NotificationEvent) -> [DeliveryTarget] {
        switch origin.source {
        case .github where origin.repository != nil && origin.number != nil: return [.github]
        case .jira where origin.jiraKey != nil && (event.isFinal || event == .approvalRequired): return [.jira]
        case .slack where origin.slackChannel != nil || origin.slackResponseURL != nil: return [.slack]
        default: return []
        }
    }

    /// Whether this process was given what answering on `target` takes (a GitHub token, a Jira site, a Slack token).
    func canAnswer(_ target: DeliveryTarget) -> Bool {
        switch target {
        case .github: github != nil
        case .jira: jira != nil
        case .slack: slack != nil
        case .webhook: true
        }
    }

    func send(_ entry: OutboxEntry, now: Date) -> AttemptResult {
        guard let origin = entry.origin, let body = try? JSON(parsing: String(decoding: entry.body, as: UTF8.self)) else {
            return .final(status: nil, error: "the outbox row has no origin to answer")
        }
        let message = OriginMessage(body: body)
        switch entry.target {
        case .github: return answerGitHub(entry, origin, message)
        case .jira: return answerJira(origin, message, now: now)
        case .slack: return answerSlack(entry, origin, message, now: now)
        case .webhook: return .final(status: nil, error: "not an origin target")
        }
    }

    // MARK: GitHub

    private func answerGitHub(_ entry: OutboxEntry, _ origin: SessionOrigin, _ message: OriginMessage) -> AttemptResult {
        guard let github else { return .final(status: nil, error: "no GitHub credentials configured (--github-token-file)") }
        guard let repository = origin.repository, let number = origin.number else { return .final(status: nil, error: "no issue or pull request to answer on") }
        do throws(GitHubError) {
            let text = message.markdown
            var commentID = (try? outbox.remembered(subject: entry.subject, target: .github)).flatMap { Int($0) }
            if commentID == nil {
                // Found again by the marker when the remembered id was lost (a new outbox, a restore).
                let marker = OriginMessage.marker(message.session)
                commentID = try github.comments(repository: repository, number: number).first { $0.body.hasPrefix(marker) }?.id
            }
            githubPacer.pace(github.apiURL)
            if let commentID {
                _ = try github.updateComment(repository: repository, id: commentID, body: text)
            } else {
                let created = try github.createComment(repository: repository, number: number, body: text)
                try? outbox.remember(subject: entry.subject, target: .github, value: String(created.id))
            }
            if origin.isPullRequest, let sha = origin.headSHA {
                githubPacer.pace(github.apiURL)
                try github.setStatus(repository: repository, sha: sha, state: Self.commitState(entry.event),
                                     context: Self.statusContext, description: "\(message.headline): \(message.summary)",
                                     targetURL: message.ui)
            }
            return .delivered(status: 200)
        } catch {
            switch error.kind {
            case .status(let status) where (400..<500).contains(status) && status != 408 && status != 429:
                return .final(status: status, error: error.message)
            case .status(let status): return .retry(status: status, error: error.message, retryAfter: nil)
            case .configuration, .badResponse: return .final(status: nil, error: error.message)
            case .transport, .rateLimited: return .retry(status: nil, error: error.message, retryAfter: nil)
            }
        }
    }

    static func commitState(_ event: NotificationEvent) -> CommitState {
        switch event {
        case .sessionCompleted: return .success
        case .sessionFailed: return .failure
        case .sessionStopped: return .error
        default: return .pending
        }
    }

    // MARK: Jira

    private func answerJira(_ origin: SessionOrigin, _ message: OriginMessage, now: Date) -> AttemptResult {
        guard let jira else { return .final(status: nil, error: "no Jira site configured") }
        guard let key = origin.jiraKey, key.range(of: #"^[A-Z][A-Z0-9_]*-[0-9]+$"#, options: .regularExpression) != nil else {
            return .final(status: nil, error: "the Jira issue key is not of the form PROJ-123")
        }
        if let site = origin.jiraSite, JiraConfiguration(site: site, token: jira.token).site != jira.site {
            return .final(status: nil, error: "the session's Jira site is not the configured one (\(jira.site)); not answering there")
        }
        let token: String
        do { token = try jira.token.value(secrets: secrets) } catch { return .retry(status: nil, error: error.description, retryAfter: nil) }
        let authorization = jira.user.map { "Basic " + Data("\($0):\(token)".utf8).base64EncodedString() } ?? "Bearer \(token)"
        let paragraphs: [JSON] = message.plainText.split(separator: "\n").map { line in
            ["type": "paragraph", "content": [["type": "text", "text": .string(String(line))]]]
        }
        let body: JSON = ["body": ["type": "doc", "version": 1, "content": .array(paragraphs)]]
        return post("\(jira.site)/rest/api/3/issue/\(key)/comment", body: body, headers: [("Authorization", authorization)], now: now).result
    }

    // MARK: Slack

    private func answerSlack(_ entry: OutboxEntry, _ origin: SessionOrigin, _ message: OriginMessage, now: Date) -> AttemptResult {
        guard let slack else { return .final(status: nil, error: "no Slack token configured") }
        if let responseURL = origin.slackResponseURL {
            // A slash command: its response_url, checked like a webhook (it came in a payload).
            guard let host = URLComponents(string: responseURL)?.host, slack.responseURLHosts.contains(host) else {
                return .final(status: nil, error: "the Slack response_url is not on \(slack.responseURLHosts.joined(separator: ", ")); not answering there")
            }
            let pinned: AddressPolicy.Pinned
            do { pinned = try addresses.check(responseURL) } catch { return .final(status: nil, error: error.description) }
            let replace = (try? outbox.remembered(subject: entry.subject, target: .slack)) != nil
            let body: JSON = ["text": .string(message.slackText), "response_type": "in_channel", "replace_original": .bool(replace)]
            let answer = post(responseURL, body: body, headers: [], now: now, resolve: [pinned.resolveEntry])
            if case .delivered = answer.result { try? outbox.remember(subject: entry.subject, target: .slack, value: "response_url") }
            return answer.result
        }
        guard let channel = origin.slackChannel else { return .final(status: nil, error: "no Slack channel to answer in") }
        let token: String
        do { token = try slack.token.value(secrets: secrets) } catch { return .retry(status: nil, error: error.description, retryAfter: nil) }
        let ts = try? outbox.remembered(subject: entry.subject, target: .slack)
        var body: JSONObject = ["channel": .string(channel), "text": .string(message.slackText)]
        let method: String
        if let ts {
            method = "chat.update"
            body["ts"] = .string(ts)
        } else {
            method = "chat.postMessage"
            if let thread = origin.slackThread { body["thread_ts"] = .string(thread) }
        }
        slackPacer.pace(channel)
        let answer = post("\(slack.apiURL)/\(method)", body: .object(body), headers: [("Authorization", "Bearer \(token)")], now: now)
        guard case .delivered(let status) = answer.result else { return answer.result }
        // Slack answers 200 with {"ok": false, "error": …} for refusals.
        guard let reply = answer.json, reply["ok"]?.boolValue == true else {
            let error = answer.json?["error"]?.stringValue ?? "no ok in the answer"
            return error == "ratelimited" ? .retry(status: status, error: "Slack: \(error)", retryAfter: nil)
                : .final(status: status, error: "Slack \(method) refused: \(error)")
        }
        if ts == nil, let newTS = reply["ts"]?.stringValue { try? outbox.remember(subject: entry.subject, target: .slack, value: newTS) }
        return answer.result
    }

    // MARK: Transport

    private func post(_ url: String, body: JSON, headers: [(name: String, value: String)], now: Date,
                      resolve: [String] = []) -> (result: AttemptResult, json: JSON?) {
        let request = HTTPRequest(method: "POST", url: url,
                                  headers: [("Content-Type", "application/json; charset=utf-8"), ("Accept", "application/json"),
                                            ("User-Agent", "tenantry-notifications")] + headers,
                                  body: body.compactBytes, timeout: timeout, resolve: resolve)
        do {
            let response = try http.send(request)
            return (AttemptResult.of(status: response.status, headers: response.headers, now: now),
                    try? JSON(parsing: Data(response.body)))
        } catch {
            return (.retry(status: nil, error: "no answer from \(AddressPolicy.display(url)): \(error.message)", retryAfter: nil), nil)
        }
    }
}
