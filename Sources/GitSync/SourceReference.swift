/// What to follow in the repository.
public enum SourceReference: Sendable, Hashable, CustomStringConvertible {
    case branch(String)
    case tag(String)
    /// A commit pinned by its full id; `branch`, when given, is fetched and names the revision.
    case commit(ObjectID, branch: String?)

    /// The branch the status report goes to unless a status branch is configured.
    public var branch: String? {
        switch self {
        case .branch(let name): return name
        case .tag: return nil
        case .commit(_, let branch): return branch
        }
    }

    public var description: String {
        switch self {
        case .branch(let name): return "branch \"\(name)\""
        case .tag(let name): return "tag \"\(name)\""
        case .commit(let id, let branch): return "commit \(id)" + (branch.map { " on branch \"\($0)\"" } ?? "")
        }
    }
}
