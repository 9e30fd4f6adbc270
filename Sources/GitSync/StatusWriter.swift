import Foundation
import Support

/// Commits a `StatusReport` to the status directory and pushes it, never forcing: a push the
/// remote refuses because the branch moved is fetched, rebuilt on the new head and retried with
/// backoff. A report that says nothing new makes no commit: its time aside, and a tenant's applied and pruned
/// lists aside when this round applied and pruned nothing for it (those lists say what the last change did).
public struct StatusWriter: Sendable {
    public let config: SourceConfig
    public var retry: RetryPolicy
    private let environment: [String: String]

    public init(
        config: SourceConfig, retry: RetryPolicy = RetryPolicy(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.config = config
        self.retry = retry
        self.environment = environment
    }

    /// The local reference a status commit is pushed from.
    static let reference = "refs/tenantry/status"

    public enum Outcome: Sendable, Hashable {
        /// The report on `branch` already said this; nothing was committed.
        case unchanged(branch: String)
        case committed(commit: ObjectID, branch: String, attempts: Int)
    }

    /// Records `report` as the last reconcile, then commits and pushes it.
    public func write(_ report: StatusReport) throws(StatusError) -> Outcome {
        let source = Source(config: config, environment: environment)
        try LastReconcile.record(report, in: source.cache)
        guard let branch = config.status.branch ?? config.reference.branch else {
            throw .noStatusBranch(config.reference)
        }
        let files = try report.files()
        let credentials: LoadedCredentials
        let repository: GitRepository
        do {
            credentials = try config.credentials.load(for: config.url, environment: environment)
            repository = try source.openRepository(expecting: nil, credentials: credentials)
        } catch {
            throw .source(error)
        }
        func fail(_ error: GitError) -> StatusError {
            .commit(branch: branch, message: credentials.redaction.apply(error.message))
        }

        var lastRejection = ""
        for attempt in 1...max(1, retry.attempts) {
            if attempt > 1 {
                Thread.sleep(forTimeInterval: retry.delay(beforeAttempt: attempt))
                do {
                    try source.fetchRemote(into: repository, credentials: credentials)
                } catch {
                    throw .source(error)
                }
            }
            do {
                let parent = try base(in: repository, branch: branch, revision: report.revision)
                let existing = try repository.file(at: "\(config.status.path)/status.json", inCommit: parent)
                // Render with what only says "this round" taken from the committed report (its time, and the
                // applied and pruned lists of tenants this round left alone): if that reproduces the tree,
                // nothing a reader cares about changed.
                if let existing, let carried = report.carryingRoundDetails(ofCommitted: existing) {
                    let tree = try repository.tree(replacing: config.status.path, in: parent, with: carried.files())
                    if tree == (try repository.treeID(ofCommit: parent)) { return .unchanged(branch: branch) }
                }
                let tree = try repository.tree(replacing: config.status.path, in: parent, with: files)
                let commit = try repository.commit(
                    tree: tree, parent: parent, message: message(for: report),
                    authorName: config.status.authorName, authorEmail: config.status.authorEmail)
                // libgit2 pushes references, not bare commit ids.
                try repository.setReference(StatusWriter.reference, to: commit, message: "tenantry status")
                let outcome: PushOutcome
                do {
                    outcome = try repository.push(
                        remote: Source.remote, refspec: "\(StatusWriter.reference):refs/heads/\(branch)",
                        credentials: credentials.git)
                } catch {
                    throw pushError(error, branch: branch, credentials: credentials)
                }
                switch outcome {
                case .pushed: return .committed(commit: commit, branch: branch, attempts: attempt)
                case .rejected(let reason): lastRejection = credentials.redaction.apply(reason)
                }
            } catch let error as GitError {
                throw fail(error)
            } catch let error as StatusError {
                throw error
            } catch {
                throw .commit(branch: branch, message: "\(error)")
            }
        }
        throw .pushRejected(branch: branch, attempts: max(1, retry.attempts), reason: lastRejection)
    }

    private func pushError(_ error: GitError, branch: String, credentials: LoadedCredentials) -> StatusError {
        let message = credentials.redaction.apply(error.message)
        if error.isAuthentication {
            let hint = config.credentials.refusalHint(forPush: true)
            return .source(SourceError(.authenticationRefused(message, hint: hint), url: config.url))
        }
        return .pushFailed(branch: branch, url: Redaction.displayURL(config.url), message: message)
    }

    /// The commit to build on: the branch as last fetched, or, for a status branch that does
    /// not exist yet, the reconciled commit itself.
    private func base(in repository: GitRepository, branch: String, revision: String) throws -> ObjectID {
        if let head = try repository.commit(ofReference: "refs/remotes/\(Source.remote)/\(branch)") { return head }
        if let commit = Revision(revision)?.commit, repository.containsCommit(commit) { return commit }
        throw StatusError.commit(
            branch: branch,
            message: "the branch does not exist and the reconciled revision \(revision) is not in the repository to start it from")
    }

    func message(for report: StatusReport) -> String {
        let tenants = report.sortedTenants
        let notReady = tenants.filter { !$0.ready }.map(\.name)
        var body = "\(tenants.count) \(tenants.count == 1 ? "tenant" : "tenants"), \(tenants.count - notReady.count) ready"
        if !notReady.isEmpty { body += "; not ready: \(notReady.joined(separator: ", "))" }
        return "status: reconciled \(report.revision)\n\n\(body).\n"
    }
}

/// How often and how patiently a rejected status push is retried.
public struct RetryPolicy: Sendable, Hashable {
    public var attempts: Int
    /// The wait before the second attempt; each later wait doubles, with ±20% jitter (Support's `Backoff`)
    /// so that replicas racing for the same branch spread out.
    public var initialDelay: Double

    public init(attempts: Int = 5, initialDelay: Double = 0.5) {
        self.attempts = attempts
        self.initialDelay = initialDelay
    }

    func delay(beforeAttempt attempt: Int) -> Double {
        Backoff(initial: initialDelay).delay(retry: attempt - 1)
    }
}
