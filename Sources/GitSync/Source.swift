import Foundation

/// Follows one repository the way Flux's source controller does: clone once into the cache,
/// then fetch; check out the exact commit into a clean tree; detect force-pushes; and on
/// failure keep the last good checkout in place.
///
/// Not safe to call concurrently for the same cache: one reconciler loop owns it (see `SourcePoller`).
public struct Source: Sendable {
    public let config: SourceConfig
    public let cache: SourceCache
    let environment: [String: String]

    static let remote = "origin"
    static let refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]

    public init(config: SourceConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        self.cache = SourceCache(config: config)
        self.environment = environment
    }

    /// The revision in use since the last good fetch, if there was one.
    public var current: LastGoodRevision? { lastGood(now: Date()) }

    /// Fetches, checks out the followed commit and reports what changed under the tenant path.
    public func fetch(now: Date = Date()) throws(SourceError) -> FetchResult {
        let previous = cache.readState()
        do {
            return try fetch(previous: previous, now: now)
        } catch {
            var failure = error
            failure.lastGood = lastGood(now: now)
            throw failure
        }
    }

    private func fetch(previous: SourceState?, now: Date) throws(SourceError) -> FetchResult {
        let credentials = try config.credentials.load(for: config.url, environment: environment)
        let repository = try openRepository(expecting: previous?.head, credentials: credentials)
        try fetchRemote(into: repository, credentials: credentials)
        let head = try resolve(in: repository, credentials: credentials)
        return try localStep(credentials) { () throws(GitError) in
            let previousHead = previous.map(\.head).flatMap { repository.containsCommit($0) ? $0 : nil }
            var forcePushed = false
            if let old = previousHead, old != head { forcePushed = try !repository.isDescendant(head, of: old) }
            try repository.checkOut(head)
            let changes = try repository.changes(from: previousHead, to: head).filter { change in
                RepositoryPath.contains(config.path, change.path)
                    && !RepositoryPath.contains(config.status.path, change.path)
            }
            let headRevision = Revision(reference: referenceName, commit: head)
            // Commits that leave the tenant files alone (status reports among them) keep the
            // revision, so a status commit never looks like something new to reconcile.
            let revision: Revision
            if let previous, previousHead != nil, changes.isEmpty, previous.revision.reference == referenceName {
                revision = previous.revision
            } else {
                revision = headRevision
            }
            do {
                try cache.write(SourceState(revision: revision, head: head, fetchedAt: now))
            } catch {
                throw GitError(code: -1, errorClass: 0, message: "cannot write \(cache.stateFile): \(error)")
            }
            return FetchResult(
                revision: revision, head: headRevision, previous: previous?.revision, forcePushed: forcePushed,
                changes: changes, directory: (cache.checkout as NSString).appendingPathComponent(config.path))
        }
    }

    /// The cached clone, created on first use; re-created when it cannot be opened or has lost
    /// the commit we last checked out. The new clone is built beside the old one and only
    /// replaces it once fetched, so a failure leaves the last good checkout where it was.
    func openRepository(expecting head: ObjectID?, credentials: LoadedCredentials) throws(SourceError) -> GitRepository {
        let checkout = cache.checkout
        if let repository = try? GitRepository.open(at: checkout), head.map(repository.containsCommit) ?? true {
            try localStep(credentials) { () throws(GitError) in
                try repository.setRemote(Source.remote, url: config.url)
            }
            return repository
        }
        let fresh = checkout + ".new"
        try? FileManager.default.removeItem(atPath: fresh)
        let repository: GitRepository = try localStep(credentials) { () throws(GitError) in
            let repository = try GitRepository.create(at: fresh)
            try repository.setRemote(Source.remote, url: config.url)
            return repository
        }
        do {
            try fetchRemote(into: repository, credentials: credentials)
        } catch {
            try? FileManager.default.removeItem(atPath: fresh)
            throw error
        }
        do {
            try? FileManager.default.removeItem(atPath: checkout)
            try FileManager.default.moveItem(atPath: fresh, toPath: checkout)
        } catch {
            throw SourceError(.cache(path: checkout, message: "\(error)"), url: config.url)
        }
        return try localStep(credentials) { () throws(GitError) in try GitRepository.open(at: checkout) }
    }

    /// The commit the configured branch, tag or pin names after a fetch.
    private func resolve(in repository: GitRepository, credentials: LoadedCredentials) throws(SourceError) -> ObjectID {
        let found = try localStep(credentials) { () throws(GitError) -> ObjectID? in
            switch config.reference {
            case .branch(let name): return try repository.commit(ofReference: "refs/remotes/origin/\(name)")
            case .tag(let name): return try repository.commit(ofReference: "refs/tags/\(name)")
            case .commit(let id, _): return repository.containsCommit(id) ? id : nil
            }
        }
        if let found { return found }
        if case .commit = config.reference {
            throw SourceError(.referenceMissing(config.reference, available: []), url: config.url)
        }
        let prefix: String
        if case .tag = config.reference { prefix = "refs/tags/" } else { prefix = "refs/remotes/origin/" }
        let available = ((try? repository.referenceNames(matching: prefix + "*")) ?? [])
            .map { String($0.dropFirst(prefix.count)) }
            .filter { $0 != "HEAD" }
        throw SourceError(.referenceMissing(config.reference, available: available), url: config.url)
    }

    /// The name revisions carry: the branch or tag, or none for a commit pinned without a branch.
    var referenceName: String? {
        switch config.reference {
        case .branch(let name), .tag(let name): return name
        case .commit(_, let branch): return branch
        }
    }

    private func lastGood(now: Date) -> LastGoodRevision? {
        guard let state = cache.readState() else { return nil }
        let age = Duration.seconds(Int64(max(0, now.timeIntervalSince(state.fetchedAt))))
        return LastGoodRevision(revision: state.revision, fetchedAt: state.fetchedAt, age: age)
    }

    /// Fetches every branch and tag from the remote into `repository`.
    func fetchRemote(into repository: GitRepository, credentials: LoadedCredentials) throws(SourceError) {
        // libgit2 calls a missing local path an "unsupported URL protocol"; say what it is.
        if let path = localPath, !FileManager.default.fileExists(atPath: path) {
            throw SourceError(.unreachable("the repository \(path) does not exist"), url: config.url)
        }
        do {
            try repository.fetch(remote: Source.remote, refspecs: Source.refspecs, credentials: credentials.git)
        } catch {
            throw remoteError(error, credentials: credentials)
        }
    }

    /// The directory of a `file://` URL or plain path; nil for network URLs.
    private var localPath: String? {
        if config.url.hasPrefix("file://") { return URL(string: config.url)?.path }
        if config.url.contains("://") || RepositoryPath.isSCPStyle(config.url) { return nil }
        return config.url
    }

    /// Classifies a failed fetch or push.
    func remoteError(_ error: GitError, credentials: LoadedCredentials) -> SourceError {
        let message = credentials.redaction.apply(error.message)
        if error.isAuthentication {
            return SourceError(.authenticationRefused(message, hint: config.credentials.refusalHint()), url: config.url)
        }
        if error.isDiskFull {
            return SourceError(.diskFull(cache: cache.root, message: message), url: config.url)
        }
        return SourceError(.unreachable(message), url: config.url)
    }

    /// Runs work on the local clone, turning libgit2 failures into cache errors.
    func localStep<T>(_ credentials: LoadedCredentials, _ body: () throws(GitError) -> T) throws(SourceError) -> T {
        do {
            return try body()
        } catch {
            let message = credentials.redaction.apply(error.message)
            if error.isDiskFull { throw SourceError(.diskFull(cache: cache.root, message: message), url: config.url) }
            throw SourceError(.cache(path: cache.checkout, message: message), url: config.url)
        }
    }
}

/// The outcome of a good fetch.
public struct FetchResult: Sendable, Hashable {
    /// The revision of the tenant files: the head, unless nothing under the tenant path changed
    /// since the last fetch, in which case the previous revision stays (see `Source`).
    public let revision: Revision
    /// What is checked out now.
    public let head: Revision
    /// The revision before this fetch; nil on the first one.
    public let previous: Revision?
    /// The new head does not contain the previous one: history was rewritten upstream.
    public let forcePushed: Bool
    /// Files under the tenant path (status path excluded) changed since the previous fetch.
    public let changes: [FileChange]
    /// The checked-out tenant directory.
    public let directory: String
}
