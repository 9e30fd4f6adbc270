import Foundation

extension Source {
    /// Fetches every branch and a pull request's head (GitHub's `refs/pull/N/head`, which also holds
    /// pull requests from forks) into the cached clone, so both sides of the pull request can be read;
    /// returns the clone's path. Leaves the checkout and the followed revision alone.
    public func fetchPullRequest(number: Int) throws(SourceError) -> String {
        let credentials = try config.credentials.load(for: config.url, environment: environment)
        let repository = try openRepository(expecting: nil, credentials: credentials)
        do {
            try repository.fetch(remote: Source.remote,
                                 refspecs: Source.refspecs + ["+refs/pull/\(number)/head:refs/tenantry/pull/\(number)"],
                                 credentials: credentials.git)
        } catch {
            throw remoteError(error, credentials: credentials)
        }
        return cache.checkout
    }
}

extension SourceConfig {
    /// The `source:` and `status:` sections of a `tenantry.yaml`.
    public static func load(configFile path: String) throws -> SourceConfig {
        try ConfigFile.settings(at: path).resolved()
    }
}
