import Foundation
import Model

/// What a notification is about, as the tenant's webhooks subscribe to it (specs/notifications.md).
public enum NotificationEvent: String, Sendable, Hashable, CaseIterable {
    case sessionCreated = "session.created"
    case sessionRunning = "session.running"
    case sessionCompleted = "session.completed"
    case sessionFailed = "session.failed"
    case sessionStopped = "session.stopped"
    case approvalRequired = "approval.required"
    case approvalDecided = "approval.decided"
    case budgetThreshold = "budget.threshold"

    /// Whether a webhook subscribed to `events` (as the tenant file lists them) wants this event.
    public func isSubscribed(by events: [String]) -> Bool {
        events.contains(rawValue) || (self == .sessionRunning && events.contains("session.started"))
    }

    /// The session has ended: the origin answer is final.
    public var isFinal: Bool { self == .sessionCompleted || self == .sessionFailed || self == .sessionStopped }
}

/// Where a session started, so that the answer goes back there: an issue or pull request, a Jira issue, a
/// Slack thread or slash command. Only the fields of the session's source are set.
public struct SessionOrigin: Sendable, Hashable {
    public var source: Session.Source
    /// GitHub `owner/name`, the issue or pull-request number, and for a pull request its head commit.
    public var repository: String?
    public var number: Int?
    public var isPullRequest: Bool
    public var headSHA: String?
    /// Jira issue key (`PROJ-12`) and site (`https://example.atlassian.net`).
    public var jiraKey: String?
    public var jiraSite: String?
    /// Slack channel and thread (`thread_ts`), or a slash command's `response_url`.
    public var slackChannel: String?
    public var slackThread: String?
    public var slackResponseURL: String?
    /// A link to the origin for people (the issue, the Jira issue, the Slack thread).
    public var url: String?

    public init(source: Session.Source, repository: String? = nil, number: Int? = nil, isPullRequest: Bool = false,
                headSHA: String? = nil, jiraKey: String? = nil, jiraSite: String? = nil, slackChannel: String? = nil,
                slackThread: String? = nil, slackResponseURL: String? = nil, url: String? = nil) {
        self.source = source
        self.repository = repository
        self.number = number
        self.isPullRequest = isPullRequest
        self.headSHA = headSHA
        self.jiraKey = jiraKey
        self.jiraSite = jiraSite
        self.slackChannel = slackChannel
        self.slackThread = slackThread
        self.slackResponseURL = slackResponseURL
        self.url = url
    }
}

/// A Secret key read from the cluster at send time (never from git): the tenant's webhook signing secret.
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var key: String

    public init(namespace: String, name: String, key: String = "secret") {
        self.namespace = namespace
        self.name = name
        self.key = key
    }

    public var description: String { "Secret \(namespace)/\(name) key \(key)" }
}

/// One step of a session that someone may want to hear about, as the session controller records it. The
/// tenant's webhooks and signing secret come with it, from the policy the session runs under.
public struct SessionTransition: Sendable, Hashable {
    public var event: NotificationEvent
    public var time: Date
    public var tenant: String
    public var namespace: String
    public var session: String
    public var phase: Session.Phase
    /// The machine-readable reason (`JobSucceeded`, `BudgetExceeded`, …) and the one-line human summary.
    public var reason: String
    public var summary: String
    /// What the session cost so far, and the currency.
    public var cost: Amount?
    public var currency: String?
    public var origin: SessionOrigin?
    public var webhooks: [NotificationWebhook]
    public var signingSecret: SecretReference?
    /// Set for `budget.threshold`: the percentage reached (80 or 100) and the month (`2026-12`).
    public var threshold: BudgetThreshold?

    public init(event: NotificationEvent, time: Date, tenant: String, namespace: String, session: String,
                phase: Session.Phase, reason: String, summary: String, cost: Amount? = nil, currency: String? = nil,
                origin: SessionOrigin? = nil, webhooks: [NotificationWebhook] = [], signingSecret: SecretReference? = nil,
                threshold: BudgetThreshold? = nil) {
        self.event = event
        self.time = time
        self.tenant = tenant
        self.namespace = namespace
        self.session = session
        self.phase = phase
        self.reason = reason
        self.summary = summary
        self.cost = cost
        self.currency = currency
        self.origin = origin
        self.webhooks = webhooks
        self.signingSecret = signingSecret
        self.threshold = threshold
    }

    /// What makes the intent unique: one per (session, event), or per (tenant, month, percentage) for a budget
    /// threshold, so recording it twice (a controller restart, a retried reconcile) changes nothing.
    public var intentKey: String {
        if event == .budgetThreshold, let threshold {
            return "\(tenant)/budget.threshold/\(threshold.month)/\(threshold.percent)"
        }
        return "\(namespace)/\(session)/\(event.rawValue)"
    }
}
