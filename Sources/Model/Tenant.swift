/// One team on the platform, from `tenants/<name>.yaml`, with the platform's defaults filled in.
public struct Tenant: Sendable, Hashable {
    public var name: String
    public var displayName: String?
    /// Repo-relative path of the file it came from.
    public var file: String
    public var namespaces: [TenantNamespace]
    public var members: [Member]
    public var policy: TenantPolicy
    public var routing: Routing
    public var triggers: Triggers

    public init(name: String, displayName: String?, file: String, namespaces: [TenantNamespace], members: [Member],
                policy: TenantPolicy, routing: Routing, triggers: Triggers) {
        self.name = name
        self.displayName = displayName
        self.file = file
        self.namespaces = namespaces
        self.members = members
        self.policy = policy
        self.routing = routing
        self.triggers = triggers
    }

    /// The namespace webhook sessions go to when a route names none: the first one listed.
    public var defaultNamespace: String { namespaces[0].name }
}

public struct TenantNamespace: Sendable, Hashable {
    public var name: String
    /// The tenant's quotas with this namespace's overrides and the platform defaults applied.
    public var quotas: Quotas
    /// Per webhook source, the `sha256:<hex>` hash of the API key that resolves to this namespace.
    public var apiKeyHashes: [WebhookSource: String]

    public init(name: String, quotas: Quotas, apiKeyHashes: [WebhookSource: String]) {
        self.name = name
        self.quotas = quotas
        self.apiKeyHashes = apiKeyHashes
    }
}

public struct Quotas: Sendable, Hashable {
    /// Total CPU requests across the namespace.
    public var cpu: Quantity
    /// Total memory requests across the namespace.
    public var memory: Quantity
    public var pods: Int
    /// Session objects that may exist in the namespace at once.
    public var sessions: Int

    public init(cpu: Quantity, memory: Quantity, pods: Int, sessions: Int) {
        self.cpu = cpu
        self.memory = memory
        self.pods = pods
        self.sessions = sessions
    }
}

public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
    case viewer, editor, admin

    var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

public struct Subject: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable { case user = "User", group = "Group" }

    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String { kind == .user ? "user \(name)" : "group \(name)" }

    public static func < (a: Subject, b: Subject) -> Bool { (a.kind.rawValue, a.name) < (b.kind.rawValue, b.name) }
}

public struct Member: Sendable, Hashable {
    public var subject: Subject
    public var role: Role
    /// The tenant namespaces the role applies in; all of them where the file names none.
    public var namespaces: [String]

    public init(subject: Subject, role: Role, namespaces: [String]) {
        self.subject = subject
        self.role = role
        self.namespaces = namespaces
    }
}

public struct TenantPolicy: Sendable, Hashable {
    public var models: ModelPolicy
    public var budget: Budget
    public var tools: AllowList
    public var approval: Approval
    public var retention: Retention
    public var maxConcurrentSessions: Int
    public var sessionTimeout: TimeSpan
    public var sessionsPerMinute: Int
    public var runner: RunnerChoice
    public var notifications: [NotificationWebhook]
    /// The Secret (in the tenant's first namespace, key `secret`) whose value signs the webhook callbacks; read
    /// from the cluster when a callback is sent, never from git. Nil: callbacks go unsigned.
    public var notificationSecret: String?

    public init(models: ModelPolicy, budget: Budget, tools: AllowList, approval: Approval, retention: Retention,
                maxConcurrentSessions: Int, sessionTimeout: TimeSpan, sessionsPerMinute: Int, runner: RunnerChoice,
                notifications: [NotificationWebhook], notificationSecret: String? = nil) {
        self.models = models
        self.budget = budget
        self.tools = tools
        self.approval = approval
        self.retention = retention
        self.maxConcurrentSessions = maxConcurrentSessions
        self.sessionTimeout = sessionTimeout
        self.sessionsPerMinute = sessionsPerMinute
        self.runner = runner
        self.notifications = notifications
        self.notificationSecret = notificationSecret
    }
}

public struct ModelPolicy: Sendable, Hashable {
    public var allowed: [String]
    public var blocked: [String]
    /// The model a session uses when its trigger names none.
    public var defaultModel: String

    public init(allowed: [String], blocked: [String], defaultModel: String) {
        self.allowed = allowed
        self.blocked = blocked
        self.defaultModel = defaultModel
    }
}

public struct Budget: Sendable, Hashable {
    public var monthly: Amount
    public var currency: String

    public init(monthly: Amount, currency: String) {
        self.monthly = monthly
        self.currency = currency
    }
}

public struct AllowList: Sendable, Hashable {
    public var allowed: [String]
    public var blocked: [String]

    public init(allowed: [String], blocked: [String]) {
        self.allowed = allowed
        self.blocked = blocked
    }
}

public struct Approval: Sendable, Hashable {
    public var required: Bool
    /// Groups whose members may approve a session.
    public var approvers: [String]

    public init(required: Bool, approvers: [String]) {
        self.required = required
        self.approvers = approvers
    }
}

public struct Retention: Sendable, Hashable {
    public var sessions: TimeSpan
    public var artifacts: TimeSpan
    public var auditLogs: TimeSpan

    public init(sessions: TimeSpan, artifacts: TimeSpan, auditLogs: TimeSpan) {
        self.sessions = sessions
        self.artifacts = artifacts
        self.auditLogs = auditLogs
    }
}

public struct RunnerChoice: Sendable, Hashable {
    public var type: String
    public var version: String

    public init(type: String, version: String) {
        self.type = type
        self.version = version
    }
}

public struct NotificationWebhook: Sendable, Hashable {
    /// The events a webhook may subscribe to (specs/notifications.md). `session.started` is the older name of
    /// `session.running`, still accepted.
    public static let events = ["session.created", "session.running", "session.completed", "session.failed",
                                "session.stopped", "approval.required", "approval.decided", "budget.threshold",
                                "session.started"]
    public var url: String
    public var events: [String]

    public init(url: String, events: [String]) {
        self.url = url
        self.events = events
    }
}

/// Which outside repositories, projects and channels belong to the tenant, and where their sessions go.
public struct Routing: Sendable, Hashable {
    public var github: [Route]
    public var jira: [Route]
    public var slack: [Route]

    public init(github: [Route] = [], jira: [Route] = [], slack: [Route] = []) {
        self.github = github
        self.jira = jira
        self.slack = slack
    }
}

/// `owner/repo`, a Jira project key or a Slack channel ID, and the namespace its sessions land in.
public struct Route: Sendable, Hashable {
    public var key: String
    public var namespace: String

    public init(key: String, namespace: String) {
        self.key = key
        self.namespace = namespace
    }
}

/// Which events start a session. A source left out starts none.
public struct Triggers: Sendable, Hashable {
    /// How long one intent (an issue labelled, a Jira issue moved…) keeps starting the same session.
    public static let defaultIntentWindow = TimeSpan("10m")!
    public static let maxIntentWindow = TimeSpan("24h")!

    public var github: GitHubTriggers?
    public var jira: JiraTriggers?
    public var slack: SlackTriggers?
    /// `intentWindow` as written; nil means the default.
    public var intentWindow: TimeSpan?

    public init(github: GitHubTriggers? = nil, jira: JiraTriggers? = nil, slack: SlackTriggers? = nil, intentWindow: TimeSpan? = nil) {
        self.github = github
        self.jira = jira
        self.slack = slack
        self.intentWindow = intentWindow
    }

    /// Seconds within which a second delivery of the same intent returns the first session.
    public var intentWindowSeconds: Int64 { (intentWindow ?? Self.defaultIntentWindow).seconds }
}

public struct GitHubTriggers: Sendable, Hashable {
    public static let associations = ["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR",
                                      "FIRST_TIMER", "NONE"]
    public static let pullRequestActions = ["opened", "synchronize", "reopened", "ready_for_review"]

    /// An issue opened with, or given, one of these labels.
    public var issueLabels: [String]
    /// A comment starting with this command (`/agent`), by an author with one of the associations.
    public var commentCommand: String?
    public var commentAuthorAssociations: [String]
    public var pullRequestActions: [String]
    /// Bot logins (`dependabot[bot]`) whose deliveries may start sessions; every other bot's never do.
    public var allowBots: [String]

    public init(issueLabels: [String], commentCommand: String?, commentAuthorAssociations: [String],
                pullRequestActions: [String], allowBots: [String] = []) {
        self.issueLabels = issueLabels
        self.commentCommand = commentCommand
        self.commentAuthorAssociations = commentAuthorAssociations
        self.pullRequestActions = pullRequestActions
        self.allowBots = allowBots
    }
}

public struct JiraTriggers: Sendable, Hashable {
    public var labels: [String]
    public var transitions: [String]

    public init(labels: [String], transitions: [String]) {
        self.labels = labels
        self.transitions = transitions
    }
}

public struct SlackTriggers: Sendable, Hashable {
    public var mention: Bool
    public var slashCommand: String?
    /// Slack bot IDs (`B0123ABCD`) whose messages may start sessions; every other bot's never do.
    public var allowBots: [String]

    public init(mention: Bool, slashCommand: String?, allowBots: [String] = []) {
        self.mention = mention
        self.slashCommand = slashCommand
        self.allowBots = allowBots
    }
}
