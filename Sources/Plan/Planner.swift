import Model
import Render

/// Compares two sides of a tenant repo and says what the change means: per tenant in words of access and
/// money, then per object. Tenants are matched by `name`, never by file, so moving a file changes nothing.
public enum Planner {
    public static func plan(base: PlanSide, head: PlanSide) -> RepoPlan {
        var plan = RepoPlan()
        guard let headRepo = head.rendered else {
            let diagnostics = head.error?.diagnostics ?? []
            plan.findings = diagnostics.map { GuardrailFinding(kind: .validation, diagnostic: $0.asError) }.sorted()
            plan.notes.append("The head side cannot be rendered until platform.yaml is fixed; no tenant was compared.")
            return plan
        }
        if base.rendered == nil {
            let reason = base.error?.diagnostics.first.map { ": \($0)" } ?? ""
            plan.notes.append("The base side cannot be rendered\(reason); every tenant of the head side is reported as added.")
        }
        let guardrails = base.rendered?.platform.guardrails ?? headRepo.platform.guardrails
        var context = Context(base: base, head: head, guardrails: guardrails)
        context.compare()
        plan.tenants = context.tenants.sorted { $0.name < $1.name }
        if let old = base.rendered?.platform { plan.platform = platformChanges(old, headRepo.platform) }
        plan.deletedNamespaces = context.deletedNamespaces.sorted()
        plan.findings = context.findings.sorted()
        plan.objects = objectChanges(base: base.rendered, head: headRepo)
        return plan
    }

    /// What changed in `platform.yaml` that tenants do not show by themselves (their defaults do show, per tenant).
    static func platformChanges(_ old: Platform, _ new: Platform) -> [PlanChange] {
        var changes: [PlanChange] = []
        func value(_ item: String, _ a: String, _ b: String) {
            if a != b { changes.append(PlanChange(.platform, item, before: a, after: b)) }
        }
        func list(_ item: String, _ a: [String], _ b: [String]) {
            changes += b.filter { !a.contains($0) }.map { PlanChange(.platform, item, before: nil, after: $0, note: "added") }
            changes += a.filter { !b.contains($0) }.map { PlanChange(.platform, item, before: $0, after: nil, note: "removed") }
        }
        for kind in GuardrailKind.allCases {
            value("guardrail \(kind.rawValue)", old.guardrails.severity(of: kind).rawValue, new.guardrails.severity(of: kind).rawValue)
        }
        value("guardrail budgetIncreasePercent", "\(old.guardrails.budgetIncreasePercent)%", "\(new.guardrails.budgetIncreasePercent)%")
        value("most a tenant may budget", "\(old.budget.maxMonthly) \(old.budget.currency)", "\(new.budget.maxMonthly) \(new.budget.currency)")
        list("model offered", old.models.map(\.name), new.models.map(\.name))
        func price(_ offer: ModelOffer) -> String {
            switch offer.pricing {
            case .perSession(let amount): return "\(amount) per session"
            case .per1kTokens(let amount): return "\(amount) per 1k tokens"
            }
        }
        for offer in new.models {
            if let before = old.model(named: offer.name) { value("price of \(offer.name)", price(before), price(offer)) }
        }
        list("tool offered", old.tools, new.tools)
        list("reserved namespace", old.reservedNamespaces, new.reservedNamespaces)
        list("webhook source", old.webhookSources.map(\.rawValue), new.webhookSources.map(\.rawValue))
        list("runner", old.runners.map(\.type), new.runners.map(\.type))
        for runner in new.runners {
            if let before = old.runner(type: runner.type) {
                value("image of \(runner.type)", before.image, runner.image)
                list("\(runner.type) version", before.versions, runner.versions)
            }
        }
        value("ceiling on concurrent sessions", String(old.limits.maxConcurrentSessions), String(new.limits.maxConcurrentSessions))
        value("ceiling on session timeout", old.limits.maxSessionTimeout.text, new.limits.maxSessionTimeout.text)
        value("ceiling on sessions per minute", String(old.limits.maxSessionsPerMinute), String(new.limits.maxSessionsPerMinute))
        value("pod security", old.defaults.podSecurity.rawValue, new.defaults.podSecurity.rawValue)
        let containers: (ContainerLimits) -> String = { c in
            "request \(c.defaultRequest.cpu)/\(c.defaultRequest.memory), limit \(c.defaultLimit.cpu)/\(c.defaultLimit.memory), max \(c.max.cpu)/\(c.max.memory)"
        }
        value("container cpu/memory", containers(old.defaults.containers), containers(new.defaults.containers))
        list("runner egress", old.egress.map { "\($0.cidr) ports \($0.ports.map(String.init).joined(separator: ","))" },
             new.egress.map { "\($0.cidr) ports \($0.ports.map(String.init).joined(separator: ","))" })
        return changes
    }

    /// Created, changed (content hash differs) and pruned objects. A tenant that does not validate on the head
    /// side keeps its base objects (its last good render stays applied), so it causes no object change.
    static func objectChanges(base: RenderedRepo?, head: RenderedRepo) -> [ObjectChange] {
        let invalidHead = Set(head.tenants.filter { !$0.isValid }.map(\.name))
        func index(_ manifests: [Manifest]) -> [ObjectReference: (hash: String, owner: String)] {
            var map: [ObjectReference: (String, String)] = [:]
            for manifest in manifests {
                let hash = manifest.object["metadata"]?["annotations"]?[ManagedBy.contentHashAnnotation]?.stringValue ?? ""
                map[manifest.reference] = (hash, manifest.owner)
            }
            return map
        }
        let before = index(base?.manifests ?? [])
        var afterManifests = head.manifests
        afterManifests += (base?.manifests ?? []).filter { invalidHead.contains($0.owner) }
        let after = index(afterManifests)
        var changes: [ObjectChange] = []
        for (reference, new) in after {
            if let old = before[reference] {
                if old.hash != new.hash { changes.append(ObjectChange(action: .changed, reference: reference, owner: new.owner)) }
            } else {
                changes.append(ObjectChange(action: .created, reference: reference, owner: new.owner))
            }
        }
        for (reference, old) in before where after[reference] == nil {
            changes.append(ObjectChange(action: .pruned, reference: reference, owner: old.owner))
        }
        return changes.sorted()
    }
}

extension Diagnostic {
    var asError: Diagnostic { Diagnostic(.error, file: file, mark: mark, field: field, message: message, tenant: tenant) }
}

/// The state of one comparison.
private struct Context {
    let base: PlanSide
    let head: PlanSide
    let guardrails: PlanGuardrails
    var tenants: [TenantPlan] = []
    var deletedNamespaces: [DeletedNamespace] = []
    var findings: [GuardrailFinding] = []

    /// Valid tenants by name, per side.
    let baseTenants: [String: Tenant]
    let headTenants: [String: Tenant]
    let headResults: [TenantResult]
    let invalidHead: Set<String>

    init(base: PlanSide, head: PlanSide, guardrails: PlanGuardrails) {
        self.base = base
        self.head = head
        self.guardrails = guardrails
        var baseTenants: [String: Tenant] = [:]
        for result in base.rendered?.tenants ?? [] { if let tenant = result.tenant { baseTenants[tenant.name] = tenant } }
        var headTenants: [String: Tenant] = [:]
        for result in head.rendered?.tenants ?? [] { if let tenant = result.tenant { headTenants[tenant.name] = tenant } }
        self.baseTenants = baseTenants
        self.headTenants = headTenants
        headResults = head.rendered?.tenants ?? []
        invalidHead = Set(headResults.filter { !$0.isValid }.map(\.name))
    }

    mutating func compare() {
        // Validation errors on the head side, for every tenant file.
        for result in headResults {
            for diagnostic in result.diagnostics where diagnostic.severity == .error {
                findings.append(GuardrailFinding(kind: .validation, diagnostic: diagnostic))
            }
        }
        for result in headResults where !result.isValid {
            tenants.append(TenantPlan(name: result.name, file: result.file, status: .invalid, changes: []))
        }

        let names = Set(baseTenants.keys).union(headTenants.keys).subtracting(invalidHead).sorted()
        for name in names {
            switch (baseTenants[name], headTenants[name]) {
            case (let old?, let new?):
                let changes = diff(old, new)
                if !changes.isEmpty {
                    tenants.append(TenantPlan(name: name, file: new.file, previousFile: old.file == new.file ? nil : old.file,
                                              status: .changed, changes: changes))
                }
            case (nil, let new?):
                tenants.append(TenantPlan(name: name, file: new.file, status: .added, changes: added(new)))
            case (let old?, nil):
                tenants.append(TenantPlan(name: name, file: old.file, status: .deleted, changes: deleted(old)))
            case (nil, nil):
                break
            }
        }
    }

    // MARK: - Ownership across tenants

    /// Who had a namespace, route or key before, when it was another tenant than `tenant`.
    private func previousOwner(of claim: (Tenant) -> Bool, than tenant: String) -> Tenant? {
        baseTenants.values.sorted { $0.name < $1.name }.first { $0.name != tenant && claim($0) }
    }

    private func nextOwner(of claim: (Tenant) -> Bool, than tenant: String) -> Tenant? {
        headTenants.values.sorted { $0.name < $1.name }.first { $0.name != tenant && claim($0) }
    }

    private mutating func finding(_ kind: GuardrailKind, tenant: String, file: String, at place: Locator.Place, _ message: String) {
        let severity = guardrails.severity(of: kind)
        findings.append(GuardrailFinding(kind: kind, diagnostic: Diagnostic(severity, file: file, mark: place.mark, field: place.field,
                                                                            message: message, tenant: tenant)))
    }

    // MARK: - Whole tenants

    private mutating func added(_ new: Tenant) -> [PlanChange] {
        let empty = Tenant(name: new.name, displayName: nil, file: new.file, namespaces: [], members: [], policy: new.policy,
                           routing: Routing(), triggers: Triggers())
        var changes = namespaceChanges(empty, new) + accessChanges(empty, new)
        changes.append(PlanChange(.money, "monthly budget", before: nil, after: money(new.policy.budget)))
        changes += listChanges(.models, "allowed model", [], new.policy.models.allowed)
        changes += listChanges(.tools, "allowed tool", [], new.policy.tools.allowed)
        changes.append(PlanChange(.approval, "approval required", before: nil, after: String(new.policy.approval.required)))
        changes += routingChanges(empty, new)
        apiKeyClaims(new)
        return changes
    }

    /// An API key hash that another tenant had on the base side: whoever holds that key would start sessions here.
    private mutating func apiKeyClaims(_ new: Tenant) {
        for namespace in new.namespaces {
            for source in namespace.apiKeyHashes.keys.sorted() {
                let hash = namespace.apiKeyHashes[source]!
                guard let owner = previousOwner(of: { $0.namespaces.contains { $0.apiKeyHashes.values.contains(hash) } }, than: new.name)
                else { continue }
                // Name where it clashes, never the hash.
                finding(.crossTenantClaim, tenant: new.name, file: new.file,
                        at: head.locator.entry(new.file, "namespaces", key: "name", equal: namespace.name, leaf: "apiKeys"),
                        "the \(source.rawValue) API key of namespace \(namespace.name) is tenant \(owner.name)'s on the base side; whoever holds it would start sessions here")
            }
        }
    }

    private mutating func deleted(_ old: Tenant) -> [PlanChange] {
        let empty = Tenant(name: old.name, displayName: nil, file: old.file, namespaces: [], members: [], policy: old.policy,
                           routing: Routing(), triggers: Triggers())
        var changes = namespaceChanges(old, empty)
        changes.append(PlanChange(.money, "monthly budget", before: money(old.policy.budget), after: nil))
        changes += routingChanges(old, empty)
        return changes
    }

    // MARK: - Both sides

    private mutating func diff(_ old: Tenant, _ new: Tenant) -> [PlanChange] {
        var changes = namespaceChanges(old, new) + accessChanges(old, new)
        let file = new.file
        let p = (old: old.policy, new: new.policy)

        if p.old.budget != p.new.budget {
            let percent = Self.percent(p.old.budget.monthly, p.new.budget.monthly)
            changes.append(PlanChange(.money, "monthly budget", before: money(p.old.budget), after: money(p.new.budget),
                                      note: percent.map(\.text)))
            if let percent, percent.value > Double(guardrails.budgetIncreasePercent) {
                finding(.budgetIncrease, tenant: new.name, file: file, at: head.locator.field(file, "policy.budget.monthly"),
                        "monthly budget rises by \(percent.text.dropFirst()) (\(money(p.old.budget)) → \(money(p.new.budget))), more than the \(guardrails.budgetIncreasePercent)% that guardrails.budgetIncreasePercent allows without review")
            }
        }

        changes += listChanges(.models, "allowed model", p.old.models.allowed, p.new.models.allowed)
        changes += listChanges(.models, "blocked model", p.old.models.blocked, p.new.models.blocked)
        if p.old.models.defaultModel != p.new.models.defaultModel {
            changes.append(PlanChange(.models, "default model", before: p.old.models.defaultModel, after: p.new.models.defaultModel))
        }
        for model in p.new.models.allowed where p.old.models.blocked.contains(model) && !p.new.models.blocked.contains(model) {
            finding(.modelUnblocked, tenant: new.name, file: file,
                    at: head.locator.item(file, "policy.models.allowed", equal: model),
                    "model \(model) was blocked and is allowed now")
        }
        changes += listChanges(.tools, "allowed tool", p.old.tools.allowed, p.new.tools.allowed)
        changes += listChanges(.tools, "blocked tool", p.old.tools.blocked, p.new.tools.blocked)

        if p.old.approval.required != p.new.approval.required {
            changes.append(PlanChange(.approval, "approval required", before: String(p.old.approval.required),
                                      after: String(p.new.approval.required),
                                      note: p.new.approval.required ? "sessions wait for an approver" : "sessions start without approval"))
            if !p.new.approval.required {
                finding(.approvalDisabled, tenant: new.name, file: file, at: head.locator.field(file, "policy.approval.required"),
                        "approval is turned off: sessions start without anyone approving them")
            }
        }
        changes += listChanges(.approval, "approver group", p.old.approval.approvers, p.new.approval.approvers)

        for (key, was, now) in [("sessions", p.old.retention.sessions, p.new.retention.sessions),
                                ("artifacts", p.old.retention.artifacts, p.new.retention.artifacts),
                                ("auditLogs", p.old.retention.auditLogs, p.new.retention.auditLogs)] where was != now {
            let shorter = now < was
            changes.append(PlanChange(.retention, "\(key) kept for", before: was.text, after: now.text,
                                      note: shorter ? "shortened" : now > was ? "lengthened" : nil))
            if shorter {
                finding(.retentionShortened, tenant: new.name, file: file,
                        at: head.locator.field(file, "policy.retention.\(key)"),
                        "\(key) retention is shortened from \(was.text) to \(now.text): older records are deleted at the next cleanup")
            }
        }

        if p.old.maxConcurrentSessions != p.new.maxConcurrentSessions {
            changes.append(PlanChange(.limits, "concurrent sessions per namespace", before: String(p.old.maxConcurrentSessions),
                                      after: String(p.new.maxConcurrentSessions)))
        }
        if p.old.sessionTimeout != p.new.sessionTimeout {
            changes.append(PlanChange(.limits, "session timeout", before: p.old.sessionTimeout.text, after: p.new.sessionTimeout.text))
        }
        if p.old.sessionsPerMinute != p.new.sessionsPerMinute {
            changes.append(PlanChange(.limits, "sessions started per minute", before: String(p.old.sessionsPerMinute),
                                      after: String(p.new.sessionsPerMinute)))
        }

        for namespace in new.namespaces {
            guard let before = old.namespaces.first(where: { $0.name == namespace.name }) else { continue }
            let (a, b) = (before.quotas, namespace.quotas)
            for (what, x, y) in [("cpu", a.cpu.text, b.cpu.text), ("memory", a.memory.text, b.memory.text),
                                 ("pods", String(a.pods), String(b.pods)), ("sessions", String(a.sessions), String(b.sessions))] where x != y {
                changes.append(PlanChange(.quotas, "\(what) in \(namespace.name)", before: x, after: y))
            }
            for source in WebhookSource.allCases.sorted() {
                switch (before.apiKeyHashes[source], namespace.apiKeyHashes[source]) {
                // The hash is a key's fingerprint: say what happened, never which.
                case (nil, _?): changes.append(PlanChange(.webhookAuth, "\(source.rawValue) key in \(namespace.name)", before: nil, after: "set"))
                case (_?, nil): changes.append(PlanChange(.webhookAuth, "\(source.rawValue) key in \(namespace.name)", before: "set", after: nil))
                case (let x?, let y?) where x != y:
                    changes.append(PlanChange(.webhookAuth, "\(source.rawValue) key in \(namespace.name)", before: "set", after: "set", note: "rotated"))
                default: break
                }
            }
        }

        changes += routingChanges(old, new)
        apiKeyClaims(new)

        if p.old.runner != p.new.runner {
            changes.append(PlanChange(.runner, "runner", before: "\(p.old.runner.type) \(p.old.runner.version)",
                                      after: "\(p.new.runner.type) \(p.new.runner.version)"))
        }
        let oldHooks = Dictionary(p.old.notifications.map { ($0.url, $0.events.joined(separator: ", ")) }, uniquingKeysWith: { a, _ in a })
        let newHooks = Dictionary(p.new.notifications.map { ($0.url, $0.events.joined(separator: ", ")) }, uniquingKeysWith: { a, _ in a })
        for url in Set(oldHooks.keys).union(newHooks.keys).sorted() where oldHooks[url] != newHooks[url] {
            changes.append(PlanChange(.notifications, "webhook \(url)", before: oldHooks[url], after: newHooks[url]))
        }
        for (source, a, b) in [("github", old.triggers.github.map { Triggers(github: $0).json }, new.triggers.github.map { Triggers(github: $0).json }),
                               ("jira", old.triggers.jira.map { Triggers(jira: $0).json }, new.triggers.jira.map { Triggers(jira: $0).json }),
                               ("slack", old.triggers.slack.map { Triggers(slack: $0).json }, new.triggers.slack.map { Triggers(slack: $0).json })]
        where a != b {
            changes.append(PlanChange(.triggers, "\(source) triggers", before: a?[source]?.compactText, after: b?[source]?.compactText))
        }
        return changes.enumerated().sorted { ($0.element.area, $0.offset) < ($1.element.area, $1.offset) }.map(\.element)
    }

    // MARK: - Parts

    private mutating func namespaceChanges(_ old: Tenant, _ new: Tenant) -> [PlanChange] {
        var changes: [PlanChange] = []
        let oldNames = old.namespaces.map(\.name)
        let newNames = new.namespaces.map(\.name)
        for name in newNames where !oldNames.contains(name) {
            if let owner = previousOwner(of: { $0.namespaces.contains { $0.name == name } }, than: new.name) {
                changes.append(PlanChange(.namespaces, name, before: "tenant \(owner.name)", after: "this tenant",
                                          note: "taken over with its sessions"))
                finding(.crossTenantClaim, tenant: new.name, file: new.file,
                        at: head.locator.entry(new.file, "namespaces", key: "name", equal: name),
                        "namespace \(name) belongs to tenant \(owner.name) on the base side; moving it hands that tenant's sessions to this one")
            } else {
                changes.append(PlanChange(.namespaces, name, before: nil, after: "created"))
            }
        }
        for name in oldNames where !newNames.contains(name) {
            if let owner = nextOwner(of: { $0.namespaces.contains { $0.name == name } }, than: old.name) {
                changes.append(PlanChange(.namespaces, name, before: "this tenant", after: "tenant \(owner.name)", note: "moves to another tenant"))
                continue
            }
            changes.append(PlanChange(.namespaces, name, before: "present", after: "deleted", note: "its sessions are deleted with it"))
            deletedNamespaces.append(DeletedNamespace(namespace: name, tenant: old.name))
            let place: Locator.Place
            let file: String
            if headTenants[old.name] != nil {
                file = new.file
                place = head.locator.field(file, "namespaces")
            } else {
                file = old.file
                place = base.locator.entry(file, "namespaces", key: "name", equal: name)
            }
            finding(.namespaceDeleted, tenant: old.name, file: file, at: place,
                    "namespace \(name) is deleted\(headTenants[old.name] == nil ? " with tenant \(old.name)" : ""); its sessions, artifacts and history go with it")
        }
        return changes
    }

    private mutating func accessChanges(_ old: Tenant, _ new: Tenant) -> [PlanChange] {
        func grants(_ tenant: Tenant) -> [Grant: Role] {
            var map: [Grant: Role] = [:]
            for member in tenant.members {
                for namespace in member.namespaces { map[Grant(subject: member.subject, namespace: namespace)] = member.role }
            }
            return map
        }
        let before = grants(old)
        let after = grants(new)
        let newNamespaces = Set(new.namespaces.map(\.name))
        let oldNamespaces = Set(old.namespaces.map(\.name))
        var changes: [PlanChange] = []
        let order = new.namespaces.map(\.name) + old.namespaces.map(\.name).filter { !newNamespaces.contains($0) }
        let keys = Set(before.keys).union(after.keys).sorted { a, b in
            (order.firstIndex(of: a.namespace) ?? 0, a.subject) < (order.firstIndex(of: b.namespace) ?? 0, b.subject)
        }
        for grant in keys {
            let (was, now) = (before[grant], after[grant])
            guard was != now else { continue }
            // A deleted namespace takes its grants with it; that is said once, under Namespaces.
            if now == nil, !newNamespaces.contains(grant.namespace) { continue }
            let note: String
            switch (was, now) {
            case (nil, _?): note = "gains access"
            case (_?, nil): note = "loses access"
            case (let a?, let b?): note = b > a ? "raised" : "lowered"
            default: note = ""
            }
            changes.append(PlanChange(.access, "\(grant.subject) in \(grant.namespace)", before: was?.rawValue, after: now?.rawValue, note: note))
            if now == .admin, was != .admin, oldNamespaces.contains(grant.namespace), headTenants[new.name] != nil, baseTenants[new.name] != nil {
                let key = grant.subject.kind == .user ? "user" : "group"
                finding(.roleEscalation, tenant: new.name, file: new.file,
                        at: head.locator.entry(new.file, "members", key: key, equal: grant.subject.name, leaf: "role"),
                        "\(grant.subject) becomes admin in \(grant.namespace) (\(was.map { "was \($0.rawValue)" } ?? "was not a member there")): admins approve sessions and delete runner pods")
            }
        }
        return changes
    }

    private mutating func routingChanges(_ old: Tenant, _ new: Tenant) -> [PlanChange] {
        var changes: [PlanChange] = []
        let sources: [(name: String, label: String, field: String, key: String, routes: (Tenant) -> [Route])] = [
            ("github", "GitHub repository", "routing.github", "repository", { $0.routing.github }),
            ("jira", "Jira project", "routing.jira", "project", { $0.routing.jira }),
            ("slack", "Slack channel", "routing.slack", "channel", { $0.routing.slack }),
        ]
        for source in sources {
            let before = Dictionary(source.routes(old).map { ($0.key, $0.namespace) }, uniquingKeysWith: { a, _ in a })
            let after = Dictionary(source.routes(new).map { ($0.key, $0.namespace) }, uniquingKeysWith: { a, _ in a })
            let keys = source.routes(new).map(\.key) + source.routes(old).map(\.key).filter { after[$0] == nil }
            for key in keys where before[key] != after[key] {
                let item = "\(source.label) \(key)"
                if before[key] == nil, let owner = previousOwner(of: { source.routes($0).contains { $0.key == key } }, than: new.name) {
                    let was = source.routes(owner).first { $0.key == key }!.namespace
                    changes.append(PlanChange(.routing, item, before: "tenant \(owner.name) (\(was))", after: after[key],
                                              note: "moved from tenant \(owner.name)"))
                    finding(.crossTenantClaim, tenant: new.name, file: new.file,
                            at: head.locator.entry(new.file, source.field, key: source.key, equal: key,
                                                   compare: { $0.lowercased() == $1.lowercased() }),
                            "\(source.label) \(key) is routed to tenant \(owner.name) on the base side; its events would start sessions here instead")
                } else if after[key] == nil, let owner = nextOwner(of: { source.routes($0).contains { $0.key == key } }, than: old.name) {
                    let to = source.routes(owner).first { $0.key == key }!.namespace
                    changes.append(PlanChange(.routing, item, before: before[key], after: "tenant \(owner.name) (\(to))",
                                              note: "moved to tenant \(owner.name)"))
                } else {
                    changes.append(PlanChange(.routing, item, before: before[key], after: after[key],
                                              note: before[key] == nil ? "routed here" : after[key] == nil ? "no longer routed" : "moved between namespaces"))
                }
            }
        }
        return changes
    }

    private func listChanges(_ area: PlanChange.Area, _ item: String, _ old: [String], _ new: [String]) -> [PlanChange] {
        new.filter { !old.contains($0) }.map { PlanChange(area, item, before: nil, after: $0, note: "added") }
            + old.filter { !new.contains($0) }.map { PlanChange(area, item, before: $0, after: nil, note: "removed") }
    }

    private func money(_ budget: Budget) -> String { "\(budget.monthly) \(budget.currency)" }

    /// The change in percent, with its text (`+80%`, `-12.5%`); nil when the old amount is zero.
    static func percent(_ old: Amount, _ new: Amount) -> (value: Double, text: String)? {
        guard old.micros > 0 else { return nil }
        // Tenths of a percent, rounded half away from zero, in integers so the text never depends on floating point.
        let delta = new.micros - old.micros
        let (scaled, overflow) = abs(delta).multipliedReportingOverflow(by: 2000)
        let tenths = overflow ? Int64((Double(abs(delta)) * 1000 / Double(old.micros)).rounded())
            : (scaled + old.micros) / (old.micros * 2)
        let sign = delta > 0 ? "+" : delta < 0 ? "-" : ""
        let text = tenths % 10 == 0 ? "\(sign)\(tenths / 10)%" : "\(sign)\(tenths / 10).\(tenths % 10)%"
        return (Double(delta) * 100 / Double(old.micros), text)
    }
}

private struct Grant: Hashable {
    let subject: Subject
    let namespace: String
}
