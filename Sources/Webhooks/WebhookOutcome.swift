/// Every way a request to the webhook server ends, closed: what `/metrics` counts (its `outcome` label) and
/// what the intake steps return.
public enum WebhookOutcome: Sendable, Hashable {
    /// `/healthz`, `/readyz` or `/metrics` answered.
    case ok
    /// `/readyz` before the first tenant table.
    case notReady
    /// GitHub's `ping`.
    case ping
    /// Slack's `url_verification` challenge.
    case urlVerification
    /// A pull request on the tenant repository, handed to the planner.
    case planning
    /// A push to a followed repository: its reconcile started.
    case refresh
    /// Nothing routed or triggered: 202, no Session.
    case ignored
    /// The validate endpoint: the delivery would be admitted (or ignored).
    case validated
    /// The validate endpoint: the delivery breaks the namespace's policy.
    case invalid
    /// Journaled; the Session is being created.
    case accepted
    /// Journaled while the Session creator is behind or failing: created once it catches up.
    case queued
    /// The delivery was accepted before.
    case duplicate
    /// Refused with an error body.
    case refused(WebhookFailure.Code)

    /// The Prometheus label value.
    public var label: String {
        switch self {
        case .ok: "ok"
        case .notReady: "not_ready"
        case .ping: "ping"
        case .urlVerification: "url_verification"
        case .planning: "planning"
        case .refresh: "refresh"
        case .ignored: "ignored"
        case .validated: "validated"
        case .invalid: "invalid"
        case .accepted: "accepted"
        case .queued: "queued"
        case .duplicate: "duplicate"
        case .refused(let code): code.rawValue
        }
    }
}
