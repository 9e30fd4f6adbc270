import Foundation

/// The entry point for the webhook side: a `push` event for a repository wakes the pollers
/// following it. No HTTP here; the webhook handler calls `requestRefresh(repositoryURL:)`.
public enum SourceRefresh {
    /// Wakes every running `SourcePoller` whose repository is `repositoryURL` (any of GitHub's
    /// `clone_url`, `ssh_url`, `git_url` or `html_url` forms match). Thread-safe. Returns how
    /// many pollers were woken, so the caller can log a push for a repository nobody follows.
    @discardableResult
    public static func requestRefresh(repositoryURL: String) -> Int {
        let pollers = registry.pollers(for: RepositoryIdentity(repositoryURL))
        for poller in pollers { poller.requestRefresh() }
        return pollers.count
    }

    static let registry = Registry()

    final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var pollers: [ObjectIdentifier: (identity: RepositoryIdentity, poller: SourcePoller)] = [:]

        func add(_ poller: SourcePoller) {
            lock.withLock { pollers[ObjectIdentifier(poller)] = (RepositoryIdentity(poller.source.config.url), poller) }
        }

        func remove(_ poller: SourcePoller) {
            lock.withLock { pollers[ObjectIdentifier(poller)] = nil }
        }

        func pollers(for identity: RepositoryIdentity) -> [SourcePoller] {
            lock.withLock { pollers.values.filter { $0.identity == identity }.map(\.poller) }
        }
    }
}

/// A repository's URL reduced to what names it: `github.com/acme/tenants` for
/// `https://x-access-token@github.com/acme/tenants.git`, `git@github.com:acme/tenants.git`,
/// `ssh://git@github.com:22/acme/tenants` and `https://github.com/Acme/Tenants` alike.
/// Local paths and `file://` URLs keep their path as it is.
struct RepositoryIdentity: Sendable, Hashable {
    let key: String

    init(_ url: String) {
        var rest = Substring(url.trimmingCharacters(in: .whitespaces))
        var remote = true
        if let scheme = rest.range(of: "://") {
            remote = rest[..<scheme.lowerBound].lowercased() != "file"
            rest = rest[scheme.upperBound...]
        } else if RepositoryPath.isSCPStyle(url), let colon = rest.firstIndex(of: ":") {
            rest = rest[..<colon] + "/" + rest[rest.index(after: colon)...]
        } else {
            remote = false
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.hasSuffix(".git") { rest = rest.dropLast(4) }
        guard remote else {
            key = String(rest)
            return
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var host = rest[..<authorityEnd]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if let port = host.lastIndex(of: ":") { host = host[..<port] }
        // GitHub and GitLab treat owner and repository names case-insensitively.
        key = (host + rest[authorityEnd...]).lowercased()
    }
}
