import Foundation
import GitHub
import Model

/// Answers a GitHub `pull_request` webhook for the tenant repository: plans `base...head` and posts the
/// result on the pull request as one comment (found again by a hidden marker and edited in place on each
/// push) and a commit status that branch protection can require. The Webhooks server calls `handle`.
public struct PullRequestPlanner: Sendable {
    public static let marker = "<!-- tenantry-plan -->"
    public static let actions: Set<String> = ["opened", "synchronize", "reopened"]

    public let github: GitHubClient
    /// The local clone of the tenant repository; it must hold both commits of the pull request.
    public let repository: String
    /// The tenant repo's folder inside the repository ("" for its top).
    public let path: String
    public let statusContext: String
    /// Where the status links to (a dashboard, the comment); none when nil.
    public let targetURL: String?

    public init(github: GitHubClient, repository: String, path: String = "", statusContext: String = "tenantry/plan",
                targetURL: String? = nil) {
        self.github = github
        self.repository = repository
        self.path = path
        self.statusContext = statusContext
        self.targetURL = targetURL
    }

    public enum Outcome: Sendable, Hashable {
        /// Not an event this planner acts on (another action, another event); nothing was sent.
        case ignored(reason: String)
        /// The plan ran and was posted.
        case posted(state: CommitState, commentID: Int, createdComment: Bool, verdict: RepoPlan.Verdict)
        /// The plan could not run; the status says so (state `error`).
        case failed(message: String)
    }

    /// The parts of a `pull_request` webhook body the planner uses.
    public struct Event: Sendable, Hashable {
        public let action: String
        public let repository: String
        public let number: Int
        public let baseSHA: String
        public let headSHA: String

        /// Nil when the body is not a pull_request event.
        public init?(body: [UInt8]) {
            guard let root = try? JSON(parsing: Data(body)),
                  let action = root["action"]?.stringValue,
                  let pull = root["pull_request"], pull.objectValue != nil,
                  let number = root["number"]?.intValue ?? pull["number"]?.intValue,
                  let repository = root["repository"]?["full_name"]?.stringValue,
                  let base = pull["base"]?["sha"]?.stringValue,
                  let head = pull["head"]?["sha"]?.stringValue
            else { return nil }
            self.action = action
            self.repository = repository
            self.number = number
            baseSHA = base
            headSHA = head
        }
    }

    /// Plans and posts for an opened, synchronized or reopened pull request; ignores anything else.
    /// Throws only when GitHub itself cannot be reached or refuses the calls.
    public func handle(body: [UInt8]) throws(GitHubError) -> Outcome {
        guard let event = Event(body: body) else { return .ignored(reason: "not a pull_request event") }
        guard PullRequestPlanner.actions.contains(event.action) else {
            return .ignored(reason: "pull_request action \"\(event.action)\" does not change the code")
        }
        let repo = event.repository
        try github.setStatus(repository: repo, sha: event.headSHA, state: .pending, context: statusContext,
                             description: "Planning the tenant changes…", targetURL: targetURL)
        let result: (plan: RepoPlan, revisions: Planner.Revisions)
        do {
            result = try Planner.plan(repository: repository, base: event.baseSHA, head: event.headSHA, path: path)
        } catch {
            try github.setStatus(repository: repo, sha: event.headSHA, state: .error, context: statusContext,
                                 description: "The plan could not run: \(error.message)", targetURL: targetURL)
            return .failed(message: error.message)
        }
        let plan = result.plan
        // Which commits the comment describes: it is edited in place on every push.
        let footer = "<sub>Compared \(result.revisions.base.hex.prefix(12))...\(result.revisions.head.hex.prefix(12)) "
            + "(merge base...head). Guardrails: the guardrails section of the base side's platform.yaml.</sub>\n"
        let header = PullRequestPlanner.marker + "\n"
        let body = header + PlanWriter.markdown(plan, limit: PlanWriter.gitHubCommentLimit - header.utf8.count - footer.utf8.count - 1)
            + "\n" + footer
        let existing = try github.comments(repository: repo, number: event.number).first { $0.body.hasPrefix(PullRequestPlanner.marker) }
        let comment: IssueComment
        if let existing {
            comment = existing.body == body ? existing : try github.updateComment(repository: repo, id: existing.id, body: body)
        } else {
            comment = try github.createComment(repository: repo, number: event.number, body: body)
        }

        let errors = plan.errors.count
        let state: CommitState = errors > 0 ? .failure : .success
        let description = errors > 0 ? "\(RepoPlan.count(errors, "guardrail error", "guardrail errors")): \(plan.summary)" : plan.summary
        try github.setStatus(repository: repo, sha: event.headSHA, state: state, context: statusContext,
                             description: description, targetURL: targetURL)
        return .posted(state: state, commentID: comment.id, createdComment: existing == nil, verdict: plan.verdict)
    }
}
