import Foundation
import HTTPClient
import Model
import Support

/// A GitHub API token, from a file or an environment variable. It is sent, never printed: its description
/// is masked, and no error of this module quotes it.
public struct GitHubToken: Sendable, Hashable, CustomStringConvertible {
    let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "GitHubToken(***)" }

    /// The token in `file` (surrounding whitespace trimmed) when given, else in the environment variable.
    public static func resolve(file: String?, variable: String = "GITHUB_TOKEN",
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(GitHubError) -> GitHubToken {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw GitHubError(.configuration, "cannot read the GitHub token file \(file); check the path and its permissions")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw GitHubError(.configuration, "the GitHub token file \(file) is empty") }
            return GitHubToken(token)
        }
        guard let token = environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw GitHubError(.configuration, "no GitHub token: set \(variable) or give a token file")
        }
        return GitHubToken(token)
    }
}

/// A GitHub API call that failed: what was asked, the status if an answer came, and GitHub's message.
public struct GitHubError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No token, or an unreadable token file.
        case configuration
        /// No HTTP answer (connection, TLS, timeout).
        case transport
        /// An error status other than a rate limit.
        case status(Int)
        /// Still rate-limited after the retries, or told to wait longer than the client waits.
        case rateLimited
        /// An answer that is not the JSON GitHub documents.
        case badResponse
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// How the client waits: Support's injectable wall clock, so tests need not really wait.
public typealias GitHubClock = WallClock

/// A comment on an issue or pull request.
public struct IssueComment: Sendable, Hashable {
    public let id: Int
    public let body: String
}

/// A commit status state, as GitHub names them.
public enum CommitState: String, Sendable, Hashable {
    case pending, success, failure, error
}

/// The few GitHub REST calls `tenantry plan` needs, over the shared libcurl client. `apiURL` is
/// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
public final class GitHubClient: Sendable {
    public let apiURL: String
    public let maxRetries: Int
    /// The longest the client waits for a rate limit to lift before it gives up.
    public let maxWait: TimeInterval
    private let token: GitHubToken
    private let http: HTTPClient
    private let clock: GitHubClock

    public init(apiURL: String = "https://api.github.com", token: GitHubToken, http: HTTPClient = HTTPClient(),
                clock: GitHubClock = .system, maxRetries: Int = 3, maxWait: TimeInterval = 900) {
        var url = apiURL
        while url.hasSuffix("/") { url.removeLast() }
        self.apiURL = url
        self.token = token
        self.http = http
        self.clock = clock
        self.maxRetries = maxRetries
        self.maxWait = maxWait
    }

    // MARK: - Calls

    /// Every comment on issue or pull request `number` of `repository` (`owner/name`), oldest first.
    public func comments(repository: String, number: Int) throws(GitHubError) -> [IssueComment] {
        var comments: [IssueComment] = []
        var page = 1
        while true {
            let answer = try send("GET", "/repos/\(repository)/issues/\(number)/comments?per_page=100&page=\(page)", body: nil)
            guard let items = answer?.arrayValue else {
                throw GitHubError(.badResponse, "GET /repos/\(repository)/issues/\(number)/comments: expected a list of comments")
            }
            comments += try items.map { item throws(GitHubError) in try comment(item, "GET /repos/\(repository)/issues/\(number)/comments") }
            guard items.count == 100 else { return comments }
            page += 1
        }
    }

    public func createComment(repository: String, number: Int, body: String) throws(GitHubError) -> IssueComment {
        let what = "POST /repos/\(repository)/issues/\(number)/comments"
        let answer = try send("POST", "/repos/\(repository)/issues/\(number)/comments", body: ["body": .string(body)])
        return try comment(answer, what)
    }

    public func updateComment(repository: String, id: Int, body: String) throws(GitHubError) -> IssueComment {
        let what = "PATCH /repos/\(repository)/issues/comments/\(id)"
        let answer = try send("PATCH", "/repos/\(repository)/issues/comments/\(id)", body: ["body": .string(body)])
        return try comment(answer, what)
    }

    /// Sets commit status `context` on `sha`. GitHub keeps descriptions to 140 characters; longer ones are cut.
    public func setStatus(repository: String, sha: String, state: CommitState, context: String, description: String,
                          targetURL: String? = nil) throws(GitHubError) {
        var body: JSONObject = ["state": .string(state.rawValue), "context": .string(context),
                                "description": .string(GitHubClient.statusDescription(description))]
        if let targetURL { body["target_url"] = .string(targetURL) }
        _ = try send("POST", "/repos/\(repository)/statuses/\(sha)", body: body)
    }

    static func statusDescription(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count <= 140 ? line : String(line.prefix(139)) + "…"
    }

    private func comment(_ value: JSON?, _ what: String) throws(GitHubError) -> IssueComment {
        guard let object = value, object.objectValue != nil, let id = object["id"]?.intValue else {
            throw GitHubError(.badResponse, "\(what): expected a comment with an id")
        }
        return IssueComment(id: id, body: object["body"]?.stringValue ?? "")
    }

    // MARK: - Transport

    /// Sends one call and decodes its JSON answer, waiting out rate limits: a 403 or 429 with
    /// `x-ratelimit-remaining: 0` waits until `x-ratelimit-reset`; one with `retry-after` (a secondary
    /// limit) waits that long; a 429 or a 403 saying "secondary rate limit" without either waits a minute.
    func send(_ method: String, _ path: String, body: JSONObject?) throws(GitHubError) -> JSON? {
        let what = "\(method) \(path.split(separator: "?").first.map(String.init) ?? path)"
        var headers: [(name: String, value: String)] = [
            ("Accept", "application/vnd.github+json"),
            ("Authorization", "Bearer \(token.value)"),
            ("X-GitHub-Api-Version", "2022-11-28"),
            ("User-Agent", "tenantry"),
        ]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = HTTPRequest(method: method, url: apiURL + path, headers: headers, body: body.map { JSON.object($0).compactBytes })
        var attempt = 0
        while true {
            let response: HTTPResponse
            do {
                response = try http.send(request)
            } catch {
                throw GitHubError(.transport, "\(what) at \(apiURL) failed: \(error.message); check the GitHub API URL and the network")
            }
            if let wait = rateLimitWait(response) {
                guard attempt < maxRetries else {
                    throw GitHubError(.rateLimited, "\(what): still rate-limited by GitHub after \(maxRetries) retries; try again later")
                }
                guard wait <= maxWait else {
                    throw GitHubError(.rateLimited, "\(what): rate-limited by GitHub for another \(Int(wait)) s, longer than the \(Int(maxWait)) s this client waits")
                }
                attempt += 1
                clock.sleep(wait)
                continue
            }
            let decoded: JSON? = response.body.isEmpty ? nil : try? JSON(parsing: Data(response.body))
            guard (200..<300).contains(response.status) else {
                let message = decoded?["message"]?.stringValue ?? "no message"
                throw GitHubError(.status(response.status), "\(what): GitHub answered \(response.status) (\(message))\(GitHubClient.advice(response.status))")
            }
            return decoded
        }
    }

    /// Seconds to wait before retrying, or nil when the answer is not a rate limit.
    func rateLimitWait(_ response: HTTPResponse) -> TimeInterval? {
        guard response.status == 403 || response.status == 429 else { return nil }
        if let text = response.headers["retry-after"], let seconds = Double(text.trimmingCharacters(in: .whitespaces)) {
            return max(0, seconds)
        }
        if response.headers["x-ratelimit-remaining"] == "0", let text = response.headers["x-ratelimit-reset"], let reset = Double(text) {
            return max(0, reset - clock.now().timeIntervalSince1970) + 1
        }
        if response.status == 429 || response.text.lowercased().contains("secondary rate limit") { return 60 }
        return nil
    }

    private static func advice(_ status: Int) -> String {
        switch status {
        case 401: return "; the token is not valid: check it, or that it has not expired"
        case 403: return "; the token lacks a permission: it needs Issues/Pull requests (write) and Commit statuses (write)"
        case 404: return "; check the repository name, and that the token can see it"
        default: return ""
        }
    }
}
