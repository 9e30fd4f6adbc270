/// The platform's policy for one tenant namespace (`ambient.ai/v1alpha1` NamespacePolicy, named `policy`):
/// what sessions there may use and spend, who approves them, and which webhook keys and routes resolve to it.
public struct NamespacePolicy: Sendable, Hashable {
    public static let apiVersion = "ambient.ai/v1alpha1"
    public static let kind = "NamespacePolicy"
    /// One per namespace, always under this name.
    public static let objectName = "policy"

    public var namespace: String
    public var models: ModelPolicy
    public var budget: Budget
    public var tools: AllowList
    public var approval: Approval
    public var retention: Retention
    public var maxConcurrentSessions: Int
    public var sessionTimeout: TimeSpan
    public var sessionsPerMinute: Int
    public var runner: RunnerChoice
    /// The runner image with the chosen version as its tag.
    public var runnerImage: String
    public var notifications: [NotificationWebhook]
    public var apiKeyHashes: [WebhookSource: String]
    /// Routes of the tenant that land in this namespace, per source.
    public var routes: Routing
    public var triggers: Triggers

    /// The policy of `namespace`, one of `tenant`'s namespaces.
    public init(tenant: Tenant, namespace: TenantNamespace, platform: Platform) {
        let policy = tenant.policy
        self.namespace = namespace.name
        models = policy.models
        budget = policy.budget
        tools = policy.tools
        approval = policy.approval
        retention = policy.retention
        maxConcurrentSessions = policy.maxConcurrentSessions
        sessionTimeout = policy.sessionTimeout
        sessionsPerMinute = policy.sessionsPerMinute
        runner = policy.runner
        runnerImage = platform.runner(type: policy.runner.type).map { "\($0.image):\(policy.runner.version)" } ?? ""
        notifications = policy.notifications
        apiKeyHashes = namespace.apiKeyHashes
        let here: (Route) -> Bool = { $0.namespace == namespace.name }
        routes = Routing(github: tenant.routing.github.filter(here), jira: tenant.routing.jira.filter(here),
                         slack: tenant.routing.slack.filter(here))
        triggers = tenant.triggers
    }

    /// The object's `spec`, with the field names of the NamespacePolicy CRD.
    public var spec: JSONObject {
        var keys = JSONObject()
        for source in apiKeyHashes.keys.sorted() { keys[source.rawValue] = .string(apiKeyHashes[source]!) }
        return [
            "models": [
                "allowed": .strings(models.allowed),
                "blocked": .strings(models.blocked),
                "default": .string(models.defaultModel),
                "budget": ["monthly": .string(budget.monthly.description), "currency": .string(budget.currency)],
            ],
            "tools": ["allowed": .strings(tools.allowed), "blocked": .strings(tools.blocked)],
            "approval": ["required": .bool(approval.required), "approvers": .strings(approval.approvers)],
            "retention": [
                "sessions": .string(retention.sessions.text),
                "artifacts": .string(retention.artifacts.text),
                "auditLogs": .string(retention.auditLogs.text),
            ],
            "limits": [
                "maxConcurrentSessions": .int(maxConcurrentSessions),
                "sessionTimeout": .string(sessionTimeout.text),
                "sessionsPerMinute": .int(sessionsPerMinute),
            ],
            "runner": ["type": .string(runner.type), "version": .string(runner.version), "image": .string(runnerImage)],
            "notifications": ["webhooks": .array(notifications.map { ["url": .string($0.url), "events": .strings($0.events)] })],
            "webhookAuth": ["apiKeys": .object(keys)],
            "routing": [
                "github": .strings(routes.github.map(\.key)),
                "jira": .strings(routes.jira.map(\.key)),
                "slack": .strings(routes.slack.map(\.key)),
            ],
            "triggers": triggers.json,
        ]
    }
}

extension Triggers {
    /// Per source, the rules that start a session; a source without rules is left out.
    public var json: JSON {
        var object = JSONObject()
        if let github {
            var g: JSONObject = ["issueLabels": .strings(github.issueLabels), "pullRequests": .strings(github.pullRequestActions)]
            if let command = github.commentCommand {
                g["comment"] = ["command": .string(command), "authorAssociations": .strings(github.commentAuthorAssociations)]
            }
            object["github"] = .object(g)
        }
        if let jira {
            object["jira"] = ["labels": .strings(jira.labels), "transitions": .strings(jira.transitions)]
        }
        if let slack {
            var s: JSONObject = ["mention": .bool(slack.mention)]
            if let command = slack.slashCommand { s["slashCommand"] = .string(command) }
            object["slack"] = .object(s)
        }
        return .object(object)
    }
}
