/// `platform.yaml`: the guardrails every tenant is validated against.
public struct Platform: Sendable, Hashable {
    public var name: String
    public var models: [ModelOffer]
    public var budget: PlatformBudget
    /// Tools that a tenant may ever allow.
    public var tools: [String]
    /// Namespace names or `prefix*` patterns (`kube-*`) no tenant may claim.
    public var reservedNamespaces: [String]
    public var runners: [RunnerFramework]
    public var webhookSources: [WebhookSource]
    public var limits: PlatformLimits
    public var defaults: PlatformDefaults
    public var egress: [EgressRule]
    /// How `tenantry plan` judges a change to the repo (`guardrails:`); the defaults when not given.
    public var guardrails: PlanGuardrails
    /// Where notifications may be sent (`notifications:`); the defaults when not given.
    public var notificationAddresses: NotificationAddresses
    /// The session controller's ServiceAccount (`controller.serviceAccount`); deploy/'s by default.
    public var controllerServiceAccount: ServiceAccountReference

    public init(name: String, models: [ModelOffer], budget: PlatformBudget, tools: [String], reservedNamespaces: [String],
                runners: [RunnerFramework], webhookSources: [WebhookSource], limits: PlatformLimits,
                defaults: PlatformDefaults, egress: [EgressRule], guardrails: PlanGuardrails = PlanGuardrails(),
                notificationAddresses: NotificationAddresses = NotificationAddresses(),
                controllerServiceAccount: ServiceAccountReference = .deployDefault) {
        self.name = name
        self.models = models
        self.budget = budget
        self.tools = tools
        self.reservedNamespaces = reservedNamespaces
        self.runners = runners
        self.webhookSources = webhookSources
        self.limits = limits
        self.defaults = defaults
        self.egress = egress
        self.guardrails = guardrails
        self.notificationAddresses = notificationAddresses
        self.controllerServiceAccount = controllerServiceAccount
    }

    public func model(named name: String) -> ModelOffer? { models.first { $0.name == name } }
    public func runner(type: String) -> RunnerFramework? { runners.first { $0.type == type } }

    /// Whether a namespace name is reserved: an exact name, or a `prefix*` pattern.
    public func reservedPattern(matching namespace: String) -> String? {
        reservedNamespaces.first { pattern in
            pattern.hasSuffix("*") ? namespace.hasPrefix(pattern.dropLast()) : namespace == pattern
        }
    }
}

/// A model tenants may use, and what it costs.
public struct ModelOffer: Sendable, Hashable {
    public enum Pricing: Sendable, Hashable {
        case perSession(Amount)
        case per1kTokens(Amount)
    }

    public var name: String
    public var pricing: Pricing

    public init(name: String, pricing: Pricing) {
        self.name = name
        self.pricing = pricing
    }
}

public struct PlatformBudget: Sendable, Hashable {
    /// ISO 4217 code every tenant budget is kept in.
    public var currency: String
    /// The most a tenant may budget per month.
    public var maxMonthly: Amount

    public init(currency: String, maxMonthly: Amount) {
        self.currency = currency
        self.maxMonthly = maxMonthly
    }
}

/// A registered agent-runner framework: what a Session's `spec.framework.type` may name.
public struct RunnerFramework: Sendable, Hashable {
    public var type: String
    public var image: String
    public var versions: [String]
    /// For the `script` framework: the shell command a Session runs when its `framework.config.command` names none
    /// (Sessions the webhooks create carry no command). Set by the platform team only, never by a payload.
    public var command: String?

    public init(type: String, image: String, versions: [String], command: String? = nil) {
        self.type = type
        self.image = image
        self.versions = versions
        self.command = command
    }
}

public enum WebhookSource: String, Sendable, Hashable, CaseIterable, Comparable {
    case github, jira, slack, generic

    public static func < (a: WebhookSource, b: WebhookSource) -> Bool { a.rawValue < b.rawValue }
}

/// Ceilings on what a tenant's policy may ask for.
public struct PlatformLimits: Sendable, Hashable {
    public var maxConcurrentSessions: Int
    public var maxSessionTimeout: TimeSpan
    public var maxSessionsPerMinute: Int

    public init(maxConcurrentSessions: Int, maxSessionTimeout: TimeSpan, maxSessionsPerMinute: Int) {
        self.maxConcurrentSessions = maxConcurrentSessions
        self.maxSessionTimeout = maxSessionTimeout
        self.maxSessionsPerMinute = maxSessionsPerMinute
    }
}

/// What a tenant gets where its file is silent.
public struct PlatformDefaults: Sendable, Hashable {
    public var maxConcurrentSessions: Int
    public var sessionTimeout: TimeSpan
    public var sessionsPerMinute: Int
    public var retention: Retention
    public var quotas: Quotas
    public var containers: ContainerLimits
    public var podSecurity: PodSecurityLevel

    public init(maxConcurrentSessions: Int, sessionTimeout: TimeSpan, sessionsPerMinute: Int, retention: Retention,
                quotas: Quotas, containers: ContainerLimits, podSecurity: PodSecurityLevel) {
        self.maxConcurrentSessions = maxConcurrentSessions
        self.sessionTimeout = sessionTimeout
        self.sessionsPerMinute = sessionsPerMinute
        self.retention = retention
        self.quotas = quotas
        self.containers = containers
        self.podSecurity = podSecurity
    }
}

public enum PodSecurityLevel: String, Sendable, Hashable, CaseIterable {
    case restricted, baseline, privileged
}

/// Per-container defaults and maximums, rendered as a LimitRange.
public struct ContainerLimits: Sendable, Hashable {
    public var defaultRequest: ResourceList
    public var defaultLimit: ResourceList
    public var max: ResourceList

    public init(defaultRequest: ResourceList, defaultLimit: ResourceList, max: ResourceList) {
        self.defaultRequest = defaultRequest
        self.defaultLimit = defaultLimit
        self.max = max
    }
}

public struct ResourceList: Sendable, Hashable {
    public var cpu: Quantity
    public var memory: Quantity

    public init(cpu: Quantity, memory: Quantity) {
        self.cpu = cpu
        self.memory = memory
    }
}

/// Traffic a session runner may send beyond DNS and its own namespace.
public struct EgressRule: Sendable, Hashable {
    public var cidr: String
    public var ports: [Int]

    public init(cidr: String, ports: [Int]) {
        self.cidr = cidr
        self.ports = ports
    }
}

/// A kind of change `tenantry plan` flags in a pull request.
public enum GuardrailKind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The head side has validation errors (always an error).
    case validation
    /// A namespace, repository, Jira project, Slack channel or API key moves from one tenant to another.
    case crossTenantClaim = "cross-tenant-claim"
    /// An identity becomes admin in a namespace the tenant already had, where it was not admin before.
    case roleEscalation = "role-escalation"
    /// The monthly budget rises by more than `budgetIncreasePercent`.
    case budgetIncrease = "budget-increase"
    /// A model blocked before is allowed (and not blocked) now.
    case modelUnblocked = "model-unblocked"
    /// `policy.approval.required` goes from true to false.
    case approvalDisabled = "approval-disabled"
    /// A namespace is deleted (with the tenant or alone): its sessions go with it.
    case namespaceDeleted = "namespace-deleted"
    /// A retention period gets shorter.
    case retentionShortened = "retention-shortened"

    public static func < (a: GuardrailKind, b: GuardrailKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// What a kind is when `platform.yaml` does not say.
    public var defaultSeverity: Diagnostic.Severity {
        switch self {
        case .validation, .crossTenantClaim, .roleEscalation, .modelUnblocked: return .error
        case .budgetIncrease, .approvalDisabled, .namespaceDeleted, .retentionShortened: return .warning
        }
    }
}

/// `platform.yaml` `guardrails:`: which changes fail a plan and which only warn.
public struct PlanGuardrails: Sendable, Hashable {
    /// A budget may rise by this share (in percent) before `budget-increase` fires.
    public var budgetIncreasePercent: Int
    public var errors: [GuardrailKind]
    public var warnings: [GuardrailKind]

    public init(budgetIncreasePercent: Int = 50, errors: [GuardrailKind] = [], warnings: [GuardrailKind] = []) {
        self.budgetIncreasePercent = budgetIncreasePercent
        self.errors = errors
        self.warnings = warnings
    }

    /// The listed severity, else the kind's default. `validation` is always an error.
    public func severity(of kind: GuardrailKind) -> Diagnostic.Severity {
        if kind == .validation { return .error }
        if errors.contains(kind) { return .error }
        if warnings.contains(kind) { return .warning }
        return kind.defaultSeverity
    }
}

/// `platform.yaml` `notifications:`: the CIDRs callbacks and origin answers may not reach (`denyCIDRs`, by default
/// the private ranges a cluster uses; loopback and link-local are always denied) and the exceptions (`allowCIDRs`).
public struct NotificationAddresses: Sendable, Hashable {
    public static let privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]

    public var deny: [String]
    public var allow: [String]

    public init(deny: [String] = NotificationAddresses.privateRanges, allow: [String] = []) {
        self.deny = deny
        self.allow = allow
    }
}
