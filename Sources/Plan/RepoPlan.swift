import Model

/// What a change to the tenant repo means, tenant by tenant: the answer `tenantry plan` prints and posts.
/// A pure value: built by `Planner.plan`, written by `PlanWriter` as Markdown, text or JSON.
public struct RepoPlan: Sendable, Hashable {
    /// Tenants with a change, by name; unchanged ones are left out.
    public var tenants: [TenantPlan]
    /// Changes to `platform.yaml` that no tenant shows: catalogs, ceilings, guardrails, cluster-wide defaults.
    public var platform: [PlanChange]
    /// Namespaces that exist before and not after, with the tenant that had them; called out first.
    public var deletedNamespaces: [DeletedNamespace]
    /// Guardrail findings, errors first, then by file and line.
    public var findings: [GuardrailFinding]
    /// Object-level changes by `ObjectReference`, comparing content hashes.
    public var objects: [ObjectChange]
    /// Things the reader should know that are not changes (a base that could not be rendered).
    public var notes: [String]

    public init(tenants: [TenantPlan] = [], platform: [PlanChange] = [], deletedNamespaces: [DeletedNamespace] = [], findings: [GuardrailFinding] = [],
                objects: [ObjectChange] = [], notes: [String] = []) {
        self.tenants = tenants
        self.platform = platform
        self.deletedNamespaces = deletedNamespaces
        self.findings = findings
        self.objects = objects
        self.notes = notes
    }

    public var hasChanges: Bool { !tenants.isEmpty || !platform.isEmpty || !objects.isEmpty }
    public var errors: [GuardrailFinding] { findings.filter { $0.severity == .error } }
    public var warnings: [GuardrailFinding] { findings.filter { $0.severity == .warning } }

    /// What the plan comes to. The raw value is the `exitCode` field of the JSON plan (0, 1, 2), which
    /// `tenantry plan` also exits with.
    public enum Verdict: Int, Sendable, Hashable {
        case unchanged = 0, changes = 1, refused = 2
    }

    /// Refused when a guardrail says error, else changes or none.
    public var verdict: Verdict { !errors.isEmpty ? .refused : hasChanges ? .changes : .unchanged }

    /// One line: what changed and what the guardrails say.
    public var summary: String {
        var parts: [String] = []
        var tenantParts: [String] = []
        for status in TenantPlan.Status.allCases {
            let count = tenants.filter { $0.status == status }.count
            if count > 0 { tenantParts.append("\(count) \(status.rawValue)") }
        }
        if !tenantParts.isEmpty {
            let total = tenants.count
            parts.append("\(total) \(total == 1 ? "tenant" : "tenants"): " + tenantParts.joined(separator: ", "))
        }
        if !platform.isEmpty { parts.append("platform.yaml: " + RepoPlan.count(platform.count, "change", "changes")) }
        if !deletedNamespaces.isEmpty {
            parts.append(RepoPlan.count(deletedNamespaces.count, "namespace", "namespaces") + " deleted")
        }
        if !objects.isEmpty {
            let actions = ObjectChange.Action.allCases.compactMap { action -> String? in
                let count = objects.filter { $0.action == action }.count
                return count > 0 ? "\(count) \(action.rawValue)" : nil
            }
            parts.append("objects: " + actions.joined(separator: ", "))
        }
        if parts.isEmpty { parts.append("no changes") }
        if !findings.isEmpty {
            var guardrails: [String] = []
            if !errors.isEmpty { guardrails.append(RepoPlan.count(errors.count, "error", "errors")) }
            if !warnings.isEmpty { guardrails.append(RepoPlan.count(warnings.count, "warning", "warnings")) }
            parts.append("guardrails: " + guardrails.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    static func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
}

/// One tenant's changes.
public struct TenantPlan: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case added, changed, deleted
        /// The head side does not validate: nothing of it would be applied (its last good render stays).
        case invalid
    }

    public var name: String
    /// The file on the head side (the base side for a deleted tenant).
    public var file: String
    /// The file on the base side when the tenant moved to another file.
    public var previousFile: String?
    public var status: Status
    public var changes: [PlanChange]

    public init(name: String, file: String, previousFile: String? = nil, status: Status, changes: [PlanChange]) {
        self.name = name
        self.file = file
        self.previousFile = previousFile
        self.status = status
        self.changes = changes
    }
}

/// One semantic change: what, before and after, in the reader's words.
public struct PlanChange: Sendable, Hashable {
    public enum Area: String, Sendable, Hashable, CaseIterable, Comparable {
        case namespaces, access, money, models, tools, approval, retention, limits, quotas, routing, runner,
             notifications, triggers
        case webhookAuth = "webhook-auth"
        /// `platform.yaml` itself.
        case platform

        public static func < (a: Area, b: Area) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

        /// The heading the area gets in a report.
        public var title: String {
            switch self {
            case .namespaces: return "Namespaces"
            case .access: return "Access"
            case .money: return "Money"
            case .models: return "Models"
            case .tools: return "Tools"
            case .approval: return "Approval"
            case .retention: return "Retention"
            case .limits: return "Concurrency and timeouts"
            case .quotas: return "Quotas"
            case .routing: return "Routing"
            case .runner: return "Runner"
            case .notifications: return "Notifications"
            case .triggers: return "Triggers"
            case .webhookAuth: return "Webhook API keys"
            case .platform: return "Platform"
            }
        }
    }

    public var area: Area
    /// What changed: `user ada@acme.example in payments-prod`, `monthly budget`, `allowed model`.
    public var item: String
    /// Absent when the thing is new.
    public var before: String?
    /// Absent when the thing is gone.
    public var after: String?
    public var note: String?

    public init(_ area: Area, _ item: String, before: String?, after: String?, note: String? = nil) {
        self.area = area
        self.item = item
        self.before = before
        self.after = after
        self.note = note
    }
}

public struct DeletedNamespace: Sendable, Hashable, Comparable {
    public var namespace: String
    public var tenant: String

    public init(namespace: String, tenant: String) {
        self.namespace = namespace
        self.tenant = tenant
    }

    public static func < (a: DeletedNamespace, b: DeletedNamespace) -> Bool { (a.namespace, a.tenant) < (b.namespace, b.tenant) }
}

/// A guardrail that fired, where in the repo, and whether it fails the plan.
public struct GuardrailFinding: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var kind: GuardrailKind
    /// Severity, file, line, field and message, as validation prints them.
    public var diagnostic: Diagnostic

    public init(kind: GuardrailKind, diagnostic: Diagnostic) {
        self.kind = kind
        self.diagnostic = diagnostic
    }

    public var severity: Diagnostic.Severity { diagnostic.severity }

    /// `FILE:LINE:COLUMN: [warning: ]FIELD: MESSAGE [kind]`.
    public var description: String { "\(diagnostic) [\(kind.rawValue)]" }

    public static func < (a: GuardrailFinding, b: GuardrailFinding) -> Bool {
        func key(_ f: GuardrailFinding) -> (Int, String, Int, Int, String, String) {
            (f.severity == .error ? 0 : 1, f.diagnostic.file, f.diagnostic.mark?.line ?? 0, f.diagnostic.mark?.column ?? 0,
             f.kind.rawValue, f.diagnostic.message)
        }
        return key(a) < key(b)
    }
}

/// A rendered object that the change creates, changes (its content hash differs) or prunes.
public struct ObjectChange: Sendable, Hashable, Comparable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case created, changed, pruned
    }

    public var action: Action
    public var reference: ObjectReference
    /// The tenant, or `tenantry.platform` for shared objects.
    public var owner: String

    public init(action: Action, reference: ObjectReference, owner: String) {
        self.action = action
        self.reference = reference
        self.owner = owner
    }

    public static func < (a: ObjectChange, b: ObjectChange) -> Bool {
        if a.reference != b.reference { return a.reference < b.reference }
        return a.action.rawValue < b.action.rawValue
    }
}
