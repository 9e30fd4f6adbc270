import Model
import Support

/// Something a tenant claims that no other tenant may: checked across all tenants after decoding.
struct Claim: Sendable, Hashable {
    enum Kind: String, Sendable, Hashable {
        case namespace = "namespace"
        case repository = "GitHub repository"
        case jiraProject = "Jira project"
        case slackChannel = "Slack channel"
        case apiKey = "webhook API key"
    }

    let kind: Kind
    /// Compared as is: repositories are lower-cased first, as GitHub treats them.
    let value: String
    let field: String
    let location: SourceLocation
}

/// Reads one `tenants/*.yaml` file into a `Tenant`, checking it against the platform.
enum TenantDecoder {
    struct Result {
        let tenant: Tenant?
        let claims: [Claim]
    }

    static func decode(_ root: YAMLNode, platform: Platform, _ d: FileDecoder) -> Result {
        var claims: [Claim] = []
        guard let f = d.mapping(root, "", keys: ["apiVersion", "kind", "name", "displayName", "namespaces", "members",
                                                 "policy", "quotas", "routing", "triggers"]) else {
            return Result(tenant: nil, claims: [])
        }
        PlatformDecoder.checkHeader(f, kind: "Tenant", d)
        let name = f.required("name", d).flatMap { d.string($0, "name") }
        if let name, let problem = Names.dnsLabelProblem(name) { d.error(f["name"]?.mark, "name", problem) }
        let displayName = f["displayName"].flatMap { d.string($0, "displayName") }

        // Quotas: the platform's defaults, then the tenant's, then each namespace's.
        var tenantQuotas = platform.defaults.quotas
        if let node = f["quotas"] { partialQuotas(node, "quotas", d).apply(to: &tenantQuotas) }

        var namespaces: [TenantNamespace] = []
        var listed = Set<String>()
        let namespaceItems = d.list(f.required("namespaces", d), "namespaces")
        if namespaceItems.isEmpty, let node = f["namespaces"] { d.error(node.mark, "namespaces", "a tenant needs at least one namespace") }
        for item in namespaceItems {
            guard let n = d.mapping(item.node, item.path, keys: ["name", "quotas", "apiKeys"]) else { continue }
            guard let nameNode = n.required("name", d), let nsName = d.string(nameNode, n.path("name")) else { continue }
            if let problem = Names.dnsLabelProblem(nsName) {
                d.error(nameNode.mark, n.path("name"), problem)
                continue
            }
            if let pattern = platform.reservedPattern(matching: nsName) {
                d.error(nameNode.mark, n.path("name"), "namespace \"\(nsName)\" is reserved by the platform (\"\(pattern)\" in platform.yaml reservedNamespaces)")
                continue
            }
            if !listed.insert(nsName).inserted {
                d.error(nameNode.mark, n.path("name"), "namespace \"\(nsName)\" is listed twice")
                continue
            }
            claims.append(Claim(kind: .namespace, value: nsName, field: n.path("name"), location: d.location(nameNode.mark)))
            var quotas = tenantQuotas
            if let node = n["quotas"] { partialQuotas(node, n.path("quotas"), d).apply(to: &quotas) }
            var hashes: [WebhookSource: String] = [:]
            if let keysNode = n["apiKeys"] {
                let sourceNames = WebhookSource.allCases.map(\.rawValue)
                if let k = d.mapping(keysNode, n.path("apiKeys"), keys: sourceNames) {
                    for pair in k.pairs {
                        let source = WebhookSource(rawValue: pair.key)!
                        let path = k.path(pair.key)
                        guard platform.webhookSources.contains(source) else {
                            d.error(pair.keyMark, path, "webhook source \"\(source.rawValue)\" is not enabled in platform.yaml webhookSources")
                            continue
                        }
                        guard let hash = apiKeyHash(pair.value, path, d) else { continue }
                        if let first = claims.first(where: { $0.kind == .apiKey && $0.value == hash }) {
                            d.error(pair.value.mark, path, "this API key hash is already used at \(first.field); a key must resolve to one namespace and source")
                            continue
                        }
                        hashes[source] = hash
                        claims.append(Claim(kind: .apiKey, value: hash, field: path, location: d.location(pair.value.mark)))
                    }
                }
            }
            namespaces.append(TenantNamespace(name: nsName, quotas: quotas, apiKeyHashes: hashes))
        }
        let namespaceNames = namespaces.map(\.name)

        let members = decodeMembers(f["members"], namespaces: namespaceNames, d)
        let policy = f.required("policy", d).flatMap { decodePolicy($0, platform: platform, d) }
        let routing = decodeRouting(f["routing"], platform: platform, namespaces: namespaceNames, claims: &claims, d)
        let triggers = f["triggers"].map { decodeTriggers($0, d) } ?? Triggers()

        guard !d.hasErrors, let name, let policy, !namespaces.isEmpty else { return Result(tenant: nil, claims: claims) }
        let tenant = Tenant(name: name, displayName: displayName, file: d.file, namespaces: namespaces, members: members,
                            policy: policy, routing: routing, triggers: triggers)
        return Result(tenant: tenant, claims: claims)
    }

    // MARK: - Parts

    /// A hash like `sha256:<64 lowercase hex>`. A value that is not one may be a plaintext key: never echo it.
    private static func apiKeyHash(_ node: YAMLNode, _ path: String, _ d: FileDecoder) -> String? {
        guard case .string(let value) = node.resolved else {
            d.error(node.mark, path, "expected a hash like \"sha256:<64 hex digits>\"")
            return nil
        }
        // Bytes, not Characters: Unicode property lookups per digit were a twentieth of loading 10,000 tenants.
        let hex = value.utf8.dropFirst("sha256:".utf8.count)
        guard value.hasPrefix("sha256:"), hex.count == 64,
              hex.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            d.error(node.mark, path, "expected a hash like \"sha256:<64 lowercase hex digits>\" (value not shown: if it is a plaintext key, "
                + "revoke it, then store `printf %s \"$KEY\" | sha256sum` prefixed with \"sha256:\")")
            return nil
        }
        return value
    }

    struct PartialQuotas {
        var cpu: Quantity?
        var memory: Quantity?
        var pods: Int?
        var sessions: Int?

        func apply(to quotas: inout Quotas) {
            if let cpu { quotas.cpu = cpu }
            if let memory { quotas.memory = memory }
            if let pods { quotas.pods = pods }
            if let sessions { quotas.sessions = sessions }
        }
    }

    static func partialQuotas(_ node: YAMLNode, _ path: String, _ d: FileDecoder) -> PartialQuotas {
        var result = PartialQuotas()
        guard let q = d.mapping(node, path, keys: ["cpu", "memory", "pods", "sessions"]) else { return result }
        result.cpu = q["cpu"].flatMap { d.quantity($0, q.path("cpu")) }
        result.memory = q["memory"].flatMap { d.quantity($0, q.path("memory")) }
        result.pods = q["pods"].flatMap { d.int($0, q.path("pods"), in: 0...100_000) }
        result.sessions = q["sessions"].flatMap { d.int($0, q.path("sessions"), in: 0...100_000) }
        return result
    }

    private static func decodeMembers(_ node: YAMLNode?, namespaces: [String], _ d: FileDecoder) -> [Member] {
        var members: [Member] = []
        var seen: [Subject: String] = [:]
        for item in d.list(node, "members") {
            guard let m = d.mapping(item.node, item.path, keys: ["user", "group", "role", "namespaces"]) else { continue }
            let subject: Subject?
            switch (m["user"], m["group"]) {
            case (let user?, nil):
                subject = d.string(user, m.path("user")).flatMap { name in
                    if let problem = Names.userProblem(name) { d.error(user.mark, m.path("user"), problem); return nil }
                    return Subject(.user, name)
                }
            case (nil, let group?):
                subject = d.string(group, m.path("group")).flatMap { name in
                    if let problem = Names.groupProblem(name) { d.error(group.mark, m.path("group"), problem); return nil }
                    return Subject(.group, name)
                }
            default:
                d.error(item.node.mark, item.path, "give exactly one of \"user\" or \"group\"")
                subject = nil
            }
            let role = m.required("role", d).flatMap { d.oneOf($0, m.path("role"), Role.self, choices: Role.allCases) }
            let scope = d.strings(m["namespaces"], m.path("namespaces")) { name in
                namespaces.contains(name) ? nil : "\"\(name)\" is not one of this tenant's namespaces (\(namespaces.joined(separator: ", ")))"
            }
            // An empty list must not silently widen to every namespace.
            if let scopeNode = m["namespaces"], case .sequence(let items) = scopeNode.content, items.isEmpty {
                d.error(scopeNode.mark, m.path("namespaces"), "an empty list grants nothing; name the namespaces, or leave the field out for all of them")
                continue
            }
            guard let subject, let role else { continue }
            if let first = seen[subject] {
                d.error(item.node.mark, item.path, "\(subject) is already a member (\(first)); give each identity one entry")
                continue
            }
            seen[subject] = item.path
            members.append(Member(subject: subject, role: role, namespaces: scope.isEmpty ? namespaces : scope))
        }
        return members
    }

    private static func decodePolicy(_ node: YAMLNode, platform: Platform, _ d: FileDecoder) -> TenantPolicy? {
        guard let p = d.mapping(node, "policy", keys: ["models", "budget", "tools", "approval", "retention",
                                                       "maxConcurrentSessions", "sessionTimeout", "sessionsPerMinute",
                                                       "runner", "notifications"]) else { return nil }
        let catalog = platform.models.map(\.name)
        let inCatalog: (String) -> String? = { name in
            if catalog.contains(name) { return nil }
            var message = "model \"\(name)\" is not in the platform catalog (\(catalog.joined(separator: ", ")))"
            if let suggestion = Suggest.closest(to: name, among: catalog) { message += "; did you mean \"\(suggestion)\"?" }
            return message
        }
        let models = p.required("models", d).flatMap { modelsNode -> ModelPolicy? in
            guard let m = d.mapping(modelsNode, p.path("models"), keys: ["allowed", "blocked", "default"]) else { return nil }
            let allowed = d.strings(m.required("allowed", d), m.path("allowed"), validate: inCatalog)
            let blocked = d.strings(m["blocked"], m.path("blocked"), validate: inCatalog)
            reportOverlap(allowed, blocked, m, what: "model", d)
            if allowed.isEmpty, let node = m["allowed"] { d.error(node.mark, m.path("allowed"), "allow at least one model") }
            var defaultModel = allowed.first { !blocked.contains($0) }
            if let node = m["default"], let name = d.string(node, m.path("default")) {
                if !allowed.contains(name) || blocked.contains(name) {
                    d.error(node.mark, m.path("default"), "default model \"\(name)\" must be one of the allowed models and not blocked")
                }
                defaultModel = name
            }
            guard let defaultModel else { return nil }
            return ModelPolicy(allowed: allowed, blocked: blocked, defaultModel: defaultModel)
        }

        let budget = p.required("budget", d).flatMap { budgetNode -> Budget? in
            guard let b = d.mapping(budgetNode, p.path("budget"), keys: ["monthly", "currency"]) else { return nil }
            let monthly = b.required("monthly", d).flatMap { d.amount($0, b.path("monthly")) }
            if let monthly, monthly > platform.budget.maxMonthly {
                d.error(b["monthly"]?.mark, b.path("monthly"),
                        "\(monthly) \(platform.budget.currency) is over the platform maximum of \(platform.budget.maxMonthly) \(platform.budget.currency) a month")
            }
            var currency = platform.budget.currency
            if let node = b["currency"], let value = PlatformDecoder.currency(node, b.path("currency"), d) {
                if value != platform.budget.currency {
                    d.error(node.mark, b.path("currency"), "budgets are kept in \(platform.budget.currency) on this platform, got \"\(value)\"")
                }
                currency = value
            }
            return monthly.map { Budget(monthly: $0, currency: currency) }
        }

        var tools = AllowList(allowed: [], blocked: [])
        if let node = p["tools"], let t = d.mapping(node, p.path("tools"), keys: ["allowed", "blocked"]) {
            let known: (String) -> String? = { name in
                if platform.tools.contains(name) { return nil }
                var message = "tool \"\(name)\" is not one the platform allows (\(platform.tools.joined(separator: ", ")))"
                if let suggestion = Suggest.closest(to: name, among: platform.tools) { message += "; did you mean \"\(suggestion)\"?" }
                return message
            }
            tools = AllowList(allowed: d.strings(t["allowed"], t.path("allowed"), validate: known),
                              blocked: d.strings(t["blocked"], t.path("blocked"), validate: known))
            reportOverlap(tools.allowed, tools.blocked, t, what: "tool", d)
        }

        var approval = Approval(required: false, approvers: [])
        if let node = p["approval"], let a = d.mapping(node, p.path("approval"), keys: ["required", "approvers"]) {
            approval.required = a["required"].flatMap { d.bool($0, a.path("required")) } ?? false
            approval.approvers = d.strings(a["approvers"], a.path("approvers"), validate: Names.groupProblem)
            if approval.required && approval.approvers.isEmpty {
                d.error(a["approvers"]?.mark ?? node.mark, a.path, "approval.required is true but no approvers are named; list the approving groups")
            }
        }

        var retention = platform.defaults.retention
        if let node = p["retention"], let r = d.mapping(node, p.path("retention"), keys: ["sessions", "artifacts", "auditLogs"]) {
            if let n = r["sessions"], let v = d.duration(n, r.path("sessions")) { retention.sessions = v }
            if let n = r["artifacts"], let v = d.duration(n, r.path("artifacts")) { retention.artifacts = v }
            if let n = r["auditLogs"], let v = d.duration(n, r.path("auditLogs")) { retention.auditLogs = v }
        }

        var concurrent = platform.defaults.maxConcurrentSessions
        if let n = p["maxConcurrentSessions"], let v = d.int(n, p.path("maxConcurrentSessions"), in: 1...platform.limits.maxConcurrentSessions) {
            concurrent = v
        }
        var timeout = platform.defaults.sessionTimeout
        if let n = p["sessionTimeout"], let v = d.duration(n, p.path("sessionTimeout")) {
            if v > platform.limits.maxSessionTimeout {
                d.error(n.mark, p.path("sessionTimeout"), "\(v) is longer than the platform limit of \(platform.limits.maxSessionTimeout)")
            }
            timeout = v
        }
        var rate = platform.defaults.sessionsPerMinute
        if let n = p["sessionsPerMinute"], let v = d.int(n, p.path("sessionsPerMinute"), in: 1...platform.limits.maxSessionsPerMinute) {
            rate = v
        }

        var runner = RunnerChoice(type: platform.runners[0].type, version: platform.runners[0].versions.last!)
        if let node = p["runner"], let r = d.mapping(node, p.path("runner"), keys: ["type", "version"]) {
            if let n = r.required("type", d), let type = d.string(n, r.path("type")) {
                if let framework = platform.runner(type: type) {
                    runner = RunnerChoice(type: type, version: framework.versions.last!)
                    if let v = r["version"], let version = d.string(v, r.path("version")) {
                        if framework.versions.contains(version) { runner.version = version } else {
                            d.error(v.mark, r.path("version"), "runner \(type) has no version \"\(version)\" registered (\(framework.versions.joined(separator: ", ")))")
                        }
                    }
                } else {
                    d.error(n.mark, r.path("type"), "runner \"\(type)\" is not registered in platform.yaml runners (\(platform.runners.map(\.type).joined(separator: ", ")))")
                }
            }
        }

        var notifications: [NotificationWebhook] = []
        var notificationSecret: String?
        if let node = p["notifications"], let n = d.mapping(node, p.path("notifications"), keys: ["webhooks", "signingSecret"]) {
            if let secretNode = n["signingSecret"], let name = d.string(secretNode, n.path("signingSecret")) {
                if let problem = Names.dnsSubdomainProblem(name) {
                    d.error(secretNode.mark, n.path("signingSecret"), problem + "; name the Secret (not its value) that holds the signing key")
                } else {
                    notificationSecret = name
                }
            }
            for item in d.list(n["webhooks"], n.path("webhooks")) {
                guard let w = d.mapping(item.node, item.path, keys: ["url", "events"]) else { continue }
                let url = w.required("url", d).flatMap { d.string($0, w.path("url")) }
                if let url, !isHTTPSURL(url) {
                    d.error(w["url"]?.mark, w.path("url"), "notification webhooks must be https:// URLs with a host, got \"\(url)\"")
                }
                let events = d.strings(w.required("events", d), w.path("events")) { event in
                    NotificationWebhook.events.contains(event) ? nil
                        : "unknown event \"\(event)\"; expected one of \(NotificationWebhook.events.joined(separator: ", "))"
                }
                if events.isEmpty, let eventsNode = w["events"] {
                    d.error(eventsNode.mark, w.path("events"), "list at least one event (\(NotificationWebhook.events.joined(separator: ", ")))")
                }
                if let url, isHTTPSURL(url), !events.isEmpty { notifications.append(NotificationWebhook(url: url, events: events)) }
            }
        }

        guard let models, let budget else { return nil }
        return TenantPolicy(models: models, budget: budget, tools: tools, approval: approval, retention: retention,
                            maxConcurrentSessions: concurrent, sessionTimeout: timeout, sessionsPerMinute: rate,
                            runner: runner, notifications: notifications, notificationSecret: notificationSecret)
    }

    private static func reportOverlap(_ allowed: [String], _ blocked: [String], _ f: Fields, what: String, _ d: FileDecoder) {
        let allowed = Set(allowed)
        for name in blocked where allowed.contains(name) {
            d.error(f["blocked"]?.mark, f.path("blocked"), "\(what) \"\(name)\" is both allowed and blocked; remove it from one list")
        }
    }

    static func isHTTPSURL(_ text: String) -> Bool {
        guard text.hasPrefix("https://") else { return false }
        let host = text.dropFirst(8).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return !host.isEmpty && !text.contains(where: \.isWhitespace) && !host.contains("@")
    }

    private static func decodeRouting(_ node: YAMLNode?, platform: Platform, namespaces: [String], claims: inout [Claim],
                                      _ d: FileDecoder) -> Routing {
        var routing = Routing()
        guard let node, let r = d.mapping(node, "routing", keys: ["github", "jira", "slack"]) else { return routing }
        let known = Set(namespaces)

        func routes(_ source: WebhookSource, keyField: String, kind: Claim.Kind, normalise: (String) -> String,
                    problem: (String) -> String?) -> [Route] {
            guard let listNode = r[source.rawValue] else { return [] }
            if !platform.webhookSources.contains(source) {
                d.error(listNode.mark, r.path(source.rawValue), "webhook source \"\(source.rawValue)\" is not enabled in platform.yaml webhookSources")
                return []
            }
            var result: [Route] = []
            var keys = Set<String>()
            for item in d.list(listNode, r.path(source.rawValue)) {
                guard let e = d.mapping(item.node, item.path, keys: [keyField, "namespace"]),
                      let keyNode = e.required(keyField, d), let raw = d.string(keyNode, e.path(keyField)) else { continue }
                if let message = problem(raw) { d.error(keyNode.mark, e.path(keyField), message); continue }
                let key = normalise(raw)
                if !keys.insert(key).inserted {
                    d.error(keyNode.mark, e.path(keyField), "\"\(raw)\" is routed twice"); continue
                }
                var namespace = namespaces.first ?? ""
                if let nsNode = e["namespace"], let ns = d.string(nsNode, e.path("namespace")) {
                    if !known.contains(ns) {
                        d.error(nsNode.mark, e.path("namespace"), "\"\(ns)\" is not one of this tenant's namespaces (\(namespaces.joined(separator: ", ")))")
                    }
                    namespace = ns
                }
                claims.append(Claim(kind: kind, value: key, field: e.path(keyField), location: d.location(keyNode.mark)))
                result.append(Route(key: key, namespace: namespace))
            }
            return result
        }

        routing.github = routes(.github, keyField: "repository", kind: .repository, normalise: { $0.lowercased() }) { value in
            let parts = value.split(separator: "/", omittingEmptySubsequences: false)
            let ok = parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) } }
            return ok ? nil : "\"\(value)\" is not a GitHub repository; write it as \"owner/name\""
        }
        routing.jira = routes(.jira, keyField: "project", kind: .jiraProject, normalise: { $0 }) { value in
            let ok = value.count >= 2 && value.count <= 32 && value.first!.isUppercase
                && value.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
            return ok ? nil : "\"\(value)\" is not a Jira project key (uppercase letters, digits and _, like \"PAY\")"
        }
        routing.slack = routes(.slack, keyField: "channel", kind: .slackChannel, normalise: { $0 }) { value in
            let ok = value.count >= 9 && value.count <= 21 && "CGD".contains(value.first!)
                && value.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
            return ok ? nil : "\"\(value)\" is not a Slack channel ID (like \"C0123ABCD\"; use the ID, not the #name)"
        }
        return routing
    }

    private static func decodeTriggers(_ node: YAMLNode, _ d: FileDecoder) -> Triggers {
        var triggers = Triggers()
        guard let t = d.mapping(node, "triggers", keys: ["github", "jira", "slack", "intentWindow"]) else { return triggers }
        if let n = t["intentWindow"], let window = d.duration(n, t.path("intentWindow")) {
            if window > Triggers.maxIntentWindow {
                d.error(n.mark, t.path("intentWindow"), "\(window) is longer than the longest intent window, \(Triggers.maxIntentWindow)")
            } else {
                triggers.intentWindow = window
            }
        }
        let command: (String) -> String? = { value in
            value.hasPrefix("/") && value.count > 1 && value.count <= 32 && !value.contains(where: \.isWhitespace) ? nil
                : "\"\(value)\" is not a command; write one word starting with \"/\", like \"/agent\""
        }
        if let node = t["github"], let g = d.mapping(node, t.path("github"), keys: ["issueLabels", "comment", "pullRequests", "allowBots"]) {
            var commentCommand: String?
            var associations = ["OWNER", "MEMBER", "COLLABORATOR"]
            if let commentNode = g["comment"], let c = d.mapping(commentNode, g.path("comment"), keys: ["command", "authorAssociations"]) {
                if let n = c.required("command", d), let value = d.string(n, c.path("command")) {
                    if let problem = command(value) { d.error(n.mark, c.path("command"), problem) } else { commentCommand = value }
                }
                if let n = c["authorAssociations"] {
                    associations = d.strings(n, c.path("authorAssociations")) { value in
                        GitHubTriggers.associations.contains(value) ? nil
                            : "unknown author association \"\(value)\"; expected one of \(GitHubTriggers.associations.joined(separator: ", "))"
                    }
                }
            }
            let actions = d.strings(g["pullRequests"], g.path("pullRequests")) { value in
                GitHubTriggers.pullRequestActions.contains(value) ? nil
                    : "unknown pull request action \"\(value)\"; expected one of \(GitHubTriggers.pullRequestActions.joined(separator: ", "))"
            }
            triggers.github = GitHubTriggers(issueLabels: d.strings(g["issueLabels"], g.path("issueLabels")),
                                             commentCommand: commentCommand, commentAuthorAssociations: associations,
                                             pullRequestActions: actions,
                                             allowBots: d.strings(g["allowBots"], g.path("allowBots"), validate: githubBotProblem))
        }
        if let node = t["jira"], let j = d.mapping(node, t.path("jira"), keys: ["labels", "transitions"]) {
            triggers.jira = JiraTriggers(labels: d.strings(j["labels"], j.path("labels")),
                                         transitions: d.strings(j["transitions"], j.path("transitions")))
        }
        if let node = t["slack"], let s = d.mapping(node, t.path("slack"), keys: ["mention", "slashCommand", "allowBots"]) {
            var slash: String?
            if let n = s["slashCommand"], let value = d.string(n, s.path("slashCommand")) {
                if let problem = command(value) { d.error(n.mark, s.path("slashCommand"), problem) } else { slash = value }
            }
            triggers.slack = SlackTriggers(mention: s["mention"].flatMap { d.bool($0, s.path("mention")) } ?? false, slashCommand: slash,
                                           allowBots: d.strings(s["allowBots"], s.path("allowBots"), validate: slackBotProblem))
        }
        return triggers
    }

    /// A GitHub App's bot login, as `sender.login` carries it: `name[bot]`.
    static func githubBotProblem(_ value: String) -> String? {
        let name = value.hasSuffix("[bot]") ? value.dropLast(5) : ""
        let ok = !name.isEmpty && name.count <= 39 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return ok ? nil : "\"\(value)\" is not a GitHub bot login; write the App's login with its suffix, like \"dependabot[bot]\""
    }

    /// A Slack bot ID, as `event.bot_id` carries it: `B` and 8 to 20 upper-case letters or digits.
    static func slackBotProblem(_ value: String) -> String? {
        let ok = value.count >= 9 && value.count <= 21 && value.first == "B"
            && value.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
        return ok ? nil : "\"\(value)\" is not a Slack bot ID (like \"B0123ABCD\"; use the ID, not the bot's name)"
    }
}
