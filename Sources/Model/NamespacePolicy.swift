/// The platform's policy for one tenant namespace (`ambient.ai/v1alpha1` NamespacePolicy, named `policy`):
/// what sessions there may use and spend, who approves them, and which webhook keys and routes resolve to it.
public struct NamespacePolicy: Sendable, Hashable {
    public static let apiVersion = "ambient.ai/v1alpha1"
    public static let kind = "NamespacePolicy"
    /// One per namespace, always under this name.
    public static let objectName = "policy"

    public var namespace: String
    /// The tenant the namespace belongs to.
    public var tenant: String
    /// Where the tenant's one budget ledger lives: the NamespacePolicy status of its first namespace (in the order of
    /// its file), so every namespace of the tenant spends from one monthly budget.
    public var ledgerNamespace: String
    /// The tenant's policy; the same in each of its namespaces.
    public var policy: TenantPolicy
    /// The runner image with the chosen version as its tag.
    public var runnerImage: String
    public var apiKeyHashes: [WebhookSource: String]
    /// Routes of the tenant that land in this namespace, per source.
    public var routes: Routing
    public var triggers: Triggers

    /// The policy of `namespace`, one of `tenant`'s namespaces.
    public init(tenant: Tenant, namespace: TenantNamespace, platform: Platform) {
        self.namespace = namespace.name
        self.tenant = tenant.name
        ledgerNamespace = tenant.namespaces.first?.name ?? namespace.name
        policy = tenant.policy
        runnerImage = platform.runner(type: policy.runner.type).map { "\($0.image):\(tenant.policy.runner.version)" } ?? ""
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
            "tenant": ["name": .string(tenant), "ledgerNamespace": .string(ledgerNamespace)],
            "models": [
                "allowed": .strings(policy.models.allowed),
                "blocked": .strings(policy.models.blocked),
                "default": .string(policy.models.defaultModel),
                "budget": ["monthly": .string(policy.budget.monthly.description), "currency": .string(policy.budget.currency)],
            ],
            "tools": ["allowed": .strings(policy.tools.allowed), "blocked": .strings(policy.tools.blocked)],
            "approval": ["required": .bool(policy.approval.required), "approvers": .strings(policy.approval.approvers)],
            "retention": [
                "sessions": .string(policy.retention.sessions.text),
                "artifacts": .string(policy.retention.artifacts.text),
                "auditLogs": .string(policy.retention.auditLogs.text),
            ],
            "limits": [
                "maxConcurrentSessions": .int(policy.maxConcurrentSessions),
                "sessionTimeout": .string(policy.sessionTimeout.text),
                "sessionsPerMinute": .int(policy.sessionsPerMinute),
            ],
            "runner": ["type": .string(policy.runner.type), "version": .string(policy.runner.version), "image": .string(runnerImage)],
            "notifications": .object(JSONObject([("webhooks", .array(policy.notifications.map { ["url": .string($0.url), "events": .strings($0.events)] }))]
                + (policy.notificationSecret.map { [("signingSecret", JSON.string($0))] } ?? []))),
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
            if !github.allowBots.isEmpty { g["allowBots"] = .strings(github.allowBots) }
            object["github"] = .object(g)
        }
        if let jira {
            object["jira"] = ["labels": .strings(jira.labels), "transitions": .strings(jira.transitions)]
        }
        if let slack {
            var s: JSONObject = ["mention": .bool(slack.mention)]
            if let command = slack.slashCommand { s["slashCommand"] = .string(command) }
            if !slack.allowBots.isEmpty { s["allowBots"] = .strings(slack.allowBots) }
            object["slack"] = .object(s)
        }
        if let window = intentWindow { object["intentWindow"] = .string(window.text) }
        return .object(object)
    }
}
