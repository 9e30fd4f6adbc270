/// Why a status report could not be written.
public enum StatusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Reading the repository failed (credentials, network, cache).
    case source(SourceError)
    /// A tag or a commit pinned without a branch is followed and no status branch is set.
    case noStatusBranch(SourceReference)
    case invalidTenantName(String)
    case invalidReport(file: String, message: String)
    case noLastReconcile(file: String)
    /// The report could not be saved as the last reconcile.
    case cannotRecord(file: String, message: String)
    /// Every attempt was overtaken by upstream commits.
    case pushRejected(branch: String, attempts: Int, reason: String)
    /// The push failed for a reason other than a moved branch (host unreachable, hook refused it).
    case pushFailed(branch: String, url: String, message: String)
    /// Building the commit in the local clone failed.
    case commit(branch: String, message: String)

    public var description: String {
        switch self {
        case .source(let error):
            return error.description
        case .noStatusBranch(let reference):
            return "cannot push a status report while following \(reference): set --status-branch / status.branch"
        case .invalidTenantName(let name):
            return "tenant name \"\(name)\" cannot name a status page: expected a DNS label (a-z, 0-9, -)"
        case .invalidReport(let file, let message):
            return "\(file) is not a Tenantry status report: \(message)"
        case .noLastReconcile(let file):
            return "no reconcile has been recorded yet (\(file) does not exist); run `tenantry reconcile` first or pass --report FILE"
        case .cannotRecord(let file, let message):
            return "cannot record the report of this reconcile in \(file): \(message); check that the cache directory is writable"
        case .pushRejected(let branch, let attempts, let reason):
            return "the status report was not pushed to \(branch): the branch moved on each of \(attempts) attempts (\(reason)); it will be retried after the next reconcile"
        case .pushFailed(let branch, let url, let message):
            return "cannot push the status report to \(branch) of \(url): \(message); it stays recorded as the last reconcile, and `tenantry status write` pushes it again"
        case .commit(let branch, let message):
            return "cannot commit the status report to \(branch): \(message)"
        }
    }
}
