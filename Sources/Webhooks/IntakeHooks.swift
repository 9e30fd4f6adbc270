/// Plans pull requests on the tenant repository itself (`serve --plan-repo`) instead of matching them to a
/// tenant's triggers. Webhooks only asks and logs; Commands provides the planner (Plan's TenantRepoReviewer).
public protocol PullRequestReviewer: Sendable {
    associatedtype Outcome: Sendable
    /// The GitHub repository (`owner/name`) whose pull requests change the tenants.
    var repository: String { get }
    /// Whether a `pull_request` body is about that repository.
    func concerns(_ body: [UInt8]) -> Bool
    /// Plans and posts.
    func review(_ body: [UInt8]) throws -> Outcome
    /// A few words for the log line of an outcome: ids and outcomes only, never text from the payload.
    func logWords(_ outcome: Outcome) -> String
}

extension PullRequestReviewer {
    /// Reviews `body` and says in a few words what became of it.
    func reviewForLog(_ body: [UInt8]) throws -> String { logWords(try review(body)) }
}

/// A `push` to a repository this process follows (`serve --reconcile`): starts its reconcile now and answers how
/// many followers were woken (0: nobody follows it, the push is an ordinary event). Commands wires it to GitSync.
public typealias RepositoryPushed = @Sendable (_ cloneURL: String) -> Int
