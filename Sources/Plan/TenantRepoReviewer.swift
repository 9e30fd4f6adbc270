import Foundation
import GitHub
import GitSync
import Model

/// Reviews pull requests on the tenant repository as they arrive from GitHub: fetches both sides with
/// GitSync into its own clone, then plans and posts through `PullRequestPlanner`. One review at a time,
/// since the clone is not shared between concurrent fetches.
public final class TenantRepoReviewer: Sendable {
    /// The GitHub repository (`owner/name`) whose pull requests change the tenants.
    public let repository: String
    private let source: Source
    private let github: GitHubClient
    private let lock = NSLock()

    /// `config` says how to fetch the tenant repository (URL, credentials, path); its cache directory gets a
    /// `pull-requests` folder of its own, apart from the reconciler's clone.
    public init(repository: String, config: SourceConfig, github: GitHubClient) {
        var own = config
        own.cacheDirectory = (config.cacheDirectory as NSString).appendingPathComponent("pull-requests")
        self.repository = repository
        self.source = Source(config: own)
        self.github = github
    }

    /// Whether a `pull_request` body is about the tenant repository (GitHub compares names case-insensitively).
    public func concerns(_ body: [UInt8]) -> Bool {
        guard let event = PullRequestPlanner.Event(body: body) else { return false }
        return event.repository.lowercased() == repository.lowercased()
    }

    /// Fetches the pull request, plans it and posts the comment and status. A fetch that fails sets the
    /// `error` status, so the pull request shows why no plan came.
    public func review(_ body: [UInt8]) throws(GitHubError) -> PullRequestPlanner.Outcome {
        lock.lock()
        defer { lock.unlock() }
        guard let event = PullRequestPlanner.Event(body: body) else { return .ignored(reason: "not a pull_request event") }
        guard PullRequestPlanner.actions.contains(event.action) else {
            return .ignored(reason: "pull_request action \"\(event.action)\" does not change the code")
        }
        let clone: String
        do {
            clone = try source.fetchPullRequest(number: event.number)
        } catch {
            let message = "cannot fetch pull request #\(event.number): \(error)"
            try github.setStatus(repository: event.repository, sha: event.headSHA, state: .error,
                                 context: "tenantry/plan", description: String(message.prefix(140)), targetURL: nil)
            return .failed(message: message)
        }
        return try PullRequestPlanner(github: github, repository: clone, path: source.config.path).handle(body: body)
    }
}
