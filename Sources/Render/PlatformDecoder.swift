import Model
import Support

/// Reads `platform.yaml` into a `Platform`. Any error here stops the whole render.
enum PlatformDecoder {
    static let apiVersion = "tenantry.dev/v1alpha1"

    static func decode(_ root: YAMLNode, _ d: FileDecoder) -> Platform? {
        guard let f = d.mapping(root, "", keys: ["apiVersion", "kind", "name", "models", "budget", "tools",
                                                 "reservedNamespaces", "runners", "webhookSources", "limits",
                                                 "defaults", "network", "guardrails", "notifications", "controller"]) else { return nil }
        checkHeader(f, kind: "Platform", d)
        let name = f.required("name", d).flatMap { d.string($0, "name") }

        var models: [ModelOffer] = []
        for item in d.list(f.required("models", d), "models") {
            guard let m = d.mapping(item.node, item.path, keys: ["name", "pricing"]) else { continue }
            let modelName = m.required("name", d).flatMap { d.string($0, m.path("name")) }
            if let modelName, let problem = Names.identifierProblem(modelName) { d.error(m["name"]?.mark, m.path("name"), problem) }
            if let modelName, models.contains(where: { $0.name == modelName }) {
                d.error(m["name"]?.mark, m.path("name"), "model \"\(modelName)\" is listed twice")
            }
            let pricing = m.required("pricing", d).flatMap { pricingNode -> ModelOffer.Pricing? in
                guard let p = d.mapping(pricingNode, m.path("pricing"), keys: ["perSession", "per1kTokens"]) else { return nil }
                switch (p["perSession"], p["per1kTokens"]) {
                case (let node?, nil): return d.amount(node, p.path("perSession")).map { .perSession($0) }
                case (nil, let node?): return d.amount(node, p.path("per1kTokens")).map { .per1kTokens($0) }
                default:
                    d.error(pricingNode.mark, p.path, "give exactly one of \"perSession\" or \"per1kTokens\"")
                    return nil
                }
            }
            if let modelName, let pricing { models.append(ModelOffer(name: modelName, pricing: pricing)) }
        }
        if models.isEmpty, let node = f["models"] { d.error(node.mark, "models", "the platform must offer at least one model") }

        let budget = f.required("budget", d).flatMap { decodeBudget($0, d) }

        let tools = d.strings(f.required("tools", d), "tools", validate: Names.identifierProblem)
        let reserved = d.strings(f["reservedNamespaces"], "reservedNamespaces") { pattern in
            let name = pattern.hasSuffix("*") ? String(pattern.dropLast()) : pattern
            return name.isEmpty || Names.dnsLabelProblem(pattern.hasSuffix("*") ? name + "x" : name) != nil
                ? "\"\(pattern)\" is neither a namespace name nor a prefix pattern like \"kube-*\"" : nil
        }

        var runners: [RunnerFramework] = []
        for item in d.list(f.required("runners", d), "runners") {
            guard let r = d.mapping(item.node, item.path, keys: ["type", "image", "versions", "command"]) else { continue }
            let type = r.required("type", d).flatMap { d.string($0, r.path("type")) }
            if let type, let problem = Names.identifierProblem(type) { d.error(r["type"]?.mark, r.path("type"), problem) }
            if let type, runners.contains(where: { $0.type == type }) {
                d.error(r["type"]?.mark, r.path("type"), "runner \"\(type)\" is registered twice")
            }
            let image = r.required("image", d).flatMap { d.string($0, r.path("image")) }
            // The tag comes from the chosen version, so the image is named without one.
            if let image, image.contains(where: \.isWhitespace) || image.contains("@")
                || image.split(separator: "/").last?.contains(":") == true || image.hasSuffix("/") {
                d.error(r["image"]?.mark, r.path("image"),
                        "\"\(image)\" must be an image repository without tag or digest (like \"ghcr.io/acme/runner\"); the version is appended")
            }
            let versions = d.strings(r.required("versions", d), r.path("versions"))
            if versions.isEmpty, let node = r["versions"] { d.error(node.mark, r.path("versions"), "list at least one version") }
            let command = r["command"].flatMap { d.string($0, r.path("command")) }
            if let type, let image, !versions.isEmpty { runners.append(RunnerFramework(type: type, image: image, versions: versions, command: command)) }
        }
        if runners.isEmpty, let node = f["runners"] { d.error(node.mark, "runners", "register at least one runner framework") }

        var sources: [WebhookSource] = []
        for item in d.list(f.required("webhookSources", d), "webhookSources") {
            if let source = d.oneOf(item.node, item.path, WebhookSource.self, choices: WebhookSource.allCases) {
                if sources.contains(source) { d.error(item.node.mark, item.path, "\"\(source.rawValue)\" is listed twice") }
                else { sources.append(source) }
            }
        }

        let limits = decodeLimits(f["limits"], d)
        let defaults = f.required("defaults", d).flatMap { decodeDefaults($0, limits: limits, d) }

        var egress: [EgressRule] = []
        if let networkNode = f["network"], let n = d.mapping(networkNode, "network", keys: ["egress"]) {
            for item in d.list(n["egress"], n.path("egress")) {
                guard let e = d.mapping(item.node, item.path, keys: ["cidr", "ports"]) else { continue }
                let cidr = e.required("cidr", d).flatMap { d.string($0, e.path("cidr")) }
                if let cidr, !isCIDR(cidr) { d.error(e["cidr"]?.mark, e.path("cidr"), "\"\(cidr)\" is not a CIDR like \"10.0.0.0/8\" or \"::/0\"") }
                let ports = d.list(e.required("ports", d), e.path("ports")).compactMap { d.int($0.node, $0.path, in: 1...65535) }
                if let cidr, isCIDR(cidr), !ports.isEmpty { egress.append(EgressRule(cidr: cidr, ports: ports)) }
            }
        }

        let guardrails = decodeGuardrails(f["guardrails"], d)

        var addresses = NotificationAddresses()
        if let node = f["notifications"], let n = d.mapping(node, "notifications", keys: ["denyCIDRs", "allowCIDRs"]) {
            let cidrProblem: (String) -> String? = { isCIDR($0) ? nil : "\"\($0)\" is not a CIDR like \"10.0.0.0/8\" or \"fd00::/8\"" }
            if let deny = n["denyCIDRs"] { addresses.deny = d.strings(deny, n.path("denyCIDRs"), validate: cidrProblem) }
            if let allow = n["allowCIDRs"] { addresses.allow = d.strings(allow, n.path("allowCIDRs"), validate: cidrProblem) }
        }

        let controller = decodeController(f["controller"], d)

        guard !d.hasErrors, let name, let budget, let defaults else { return nil }
        return Platform(name: name, models: models, budget: budget, tools: tools, reservedNamespaces: reserved,
                        runners: runners, webhookSources: sources, limits: limits, defaults: defaults, egress: egress,
                        guardrails: guardrails, notificationAddresses: addresses, controllerServiceAccount: controller)
    }

    /// `controller.serviceAccount: {namespace, name}`: who the session controller runs as (deploy/'s by default).
    private static func decodeController(_ node: YAMLNode?, _ d: FileDecoder) -> ServiceAccountReference {
        guard let node, let c = d.mapping(node, "controller", keys: ["serviceAccount"]),
              let account = c.required("serviceAccount", d),
              let s = d.mapping(account, c.path("serviceAccount"), keys: ["namespace", "name"]) else { return .deployDefault }
        let namespace = s.required("namespace", d).flatMap { d.string($0, s.path("namespace")) }
        if let namespace, let problem = Names.dnsLabelProblem(namespace) { d.error(s["namespace"]?.mark, s.path("namespace"), problem) }
        let name = s.required("name", d).flatMap { d.string($0, s.path("name")) }
        if let name, let problem = Names.dnsSubdomainProblem(name, kind: "ServiceAccount") { d.error(s["name"]?.mark, s.path("name"), problem) }
        guard let namespace, let name else { return .deployDefault }
        return ServiceAccountReference(namespace: namespace, name: name)
    }

    /// `guardrails:` for `tenantry plan`: a budget share and which kinds are errors or warnings.
    private static func decodeGuardrails(_ node: YAMLNode?, _ d: FileDecoder) -> PlanGuardrails {
        var guardrails = PlanGuardrails()
        guard let node, let g = d.mapping(node, "guardrails", keys: ["budgetIncreasePercent", "errors", "warnings"]) else {
            return guardrails
        }
        if let n = g["budgetIncreasePercent"], let v = d.int(n, g.path("budgetIncreasePercent"), in: 0...100_000) {
            guardrails.budgetIncreasePercent = v
        }
        func kinds(_ key: String) -> [GuardrailKind] {
            var kinds: [GuardrailKind] = []
            for item in d.list(g[key], g.path(key)) {
                guard let kind = d.oneOf(item.node, item.path, GuardrailKind.self, choices: GuardrailKind.allCases) else { continue }
                if kinds.contains(kind) { d.error(item.node.mark, item.path, "\"\(kind.rawValue)\" is listed twice") }
                else { kinds.append(kind) }
            }
            return kinds
        }
        guardrails.errors = kinds("errors")
        guardrails.warnings = kinds("warnings")
        for item in d.list(g["warnings"], g.path("warnings")) {
            guard case .string(let text) = item.node.resolved, let kind = GuardrailKind(rawValue: text) else { continue }
            if kind == .validation {
                d.error(item.node.mark, item.path, "\"validation\" is always an error: a head that does not validate cannot be merged safely")
            } else if guardrails.errors.contains(kind) {
                d.error(item.node.mark, item.path, "\"\(kind.rawValue)\" is also listed under guardrails.errors; list it in one place")
            }
        }
        return guardrails
    }

    private static func decodeBudget(_ node: YAMLNode, _ d: FileDecoder) -> PlatformBudget? {
        guard let b = d.mapping(node, "budget", keys: ["currency", "maxMonthly"]) else { return nil }
        let currency = b.required("currency", d).flatMap { Self.currency($0, b.path("currency"), d) }
        let max = b.required("maxMonthly", d).flatMap { d.amount($0, b.path("maxMonthly")) }
        guard let currency, let max else { return nil }
        return PlatformBudget(currency: currency, maxMonthly: max)
    }

    static func checkHeader(_ f: Fields, kind: String, _ d: FileDecoder) {
        if let node = f.required("apiVersion", d), let value = d.string(node, "apiVersion"), value != apiVersion {
            d.error(node.mark, "apiVersion", "unsupported apiVersion \"\(value)\"; expected \"\(apiVersion)\"")
        }
        if let node = f.required("kind", d), let value = d.string(node, "kind"), value != kind {
            d.error(node.mark, "kind", "expected kind \"\(kind)\", got \"\(value)\"")
        }
    }

    static func currency(_ node: YAMLNode, _ path: String, _ d: FileDecoder) -> String? {
        guard let text = d.string(node, path) else { return nil }
        guard text.count == 3, text.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            d.error(node.mark, path, "expected a three-letter ISO 4217 currency code like \"USD\", got \"\(text)\"")
            return nil
        }
        return text
    }

    private static func decodeLimits(_ node: YAMLNode?, _ d: FileDecoder) -> PlatformLimits {
        var limits = PlatformLimits(maxConcurrentSessions: 50, maxSessionTimeout: TimeSpan("24h")!, maxSessionsPerMinute: 60)
        guard let node, let l = d.mapping(node, "limits", keys: ["maxConcurrentSessions", "maxSessionTimeout", "maxSessionsPerMinute"]) else {
            return limits
        }
        if let n = l["maxConcurrentSessions"], let v = d.int(n, l.path("maxConcurrentSessions"), in: 1...10_000) { limits.maxConcurrentSessions = v }
        if let n = l["maxSessionTimeout"], let v = d.duration(n, l.path("maxSessionTimeout")) { limits.maxSessionTimeout = v }
        if let n = l["maxSessionsPerMinute"], let v = d.int(n, l.path("maxSessionsPerMinute"), in: 1...100_000) { limits.maxSessionsPerMinute = v }
        return limits
    }

    private static func decodeDefaults(_ node: YAMLNode, limits: PlatformLimits, _ d: FileDecoder) -> PlatformDefaults? {
        guard let f = d.mapping(node, "defaults", keys: ["maxConcurrentSessions", "sessionTimeout", "sessionsPerMinute",
                                                         "retention", "quotas", "containers", "podSecurity"]) else { return nil }
        let concurrent = f.required("maxConcurrentSessions", d).flatMap {
            d.int($0, f.path("maxConcurrentSessions"), in: 1...limits.maxConcurrentSessions)
        }
        let timeout = f.required("sessionTimeout", d).flatMap { d.duration($0, f.path("sessionTimeout")) }
        if let timeout, timeout > limits.maxSessionTimeout {
            d.error(f["sessionTimeout"]?.mark, f.path("sessionTimeout"),
                    "\(timeout) is longer than limits.maxSessionTimeout (\(limits.maxSessionTimeout))")
        }
        let rate = f.required("sessionsPerMinute", d).flatMap { d.int($0, f.path("sessionsPerMinute"), in: 1...limits.maxSessionsPerMinute) }
        let retention = f.required("retention", d).flatMap { retentionNode -> Retention? in
            guard let r = d.mapping(retentionNode, f.path("retention"), keys: ["sessions", "artifacts", "auditLogs"]) else { return nil }
            let values = ["sessions", "artifacts", "auditLogs"].map { key in r.required(key, d).flatMap { d.duration($0, r.path(key)) } }
            guard let sessions = values[0], let artifacts = values[1], let audit = values[2] else { return nil }
            return Retention(sessions: sessions, artifacts: artifacts, auditLogs: audit)
        }
        let quotas = f.required("quotas", d).flatMap { quotasNode -> Quotas? in
            let partial = TenantDecoder.partialQuotas(quotasNode, f.path("quotas"), d)
            guard let cpu = partial.cpu, let memory = partial.memory, let pods = partial.pods, let sessions = partial.sessions else {
                d.error(quotasNode.mark, f.path("quotas"), "platform default quotas need all of cpu, memory, pods and sessions")
                return nil
            }
            return Quotas(cpu: cpu, memory: memory, pods: pods, sessions: sessions)
        }
        let containers = f.required("containers", d).flatMap { containersNode -> ContainerLimits? in
            guard let c = d.mapping(containersNode, f.path("containers"), keys: ["defaultRequest", "default", "max"]) else { return nil }
            let lists = ["defaultRequest", "default", "max"].map { key in c.required(key, d).flatMap { resourceList($0, c.path(key), d) } }
            guard let request = lists[0], let limit = lists[1], let max = lists[2] else { return nil }
            // Kubernetes refuses a LimitRange whose defaults exceed its maximum.
            for (name, low, high) in [("defaultRequest", request, limit), ("default", limit, max)] {
                for (resource, a, b) in [("cpu", low.cpu, high.cpu), ("memory", low.memory, high.memory)] where a.value > b.value {
                    d.error(c[name]?.mark, c.path(name + "." + resource),
                            "\(a) is more than \(name == "default" ? "max" : "default") (\(b)); Kubernetes would refuse the LimitRange")
                }
            }
            return ContainerLimits(defaultRequest: request, defaultLimit: limit, max: max)
        }
        var podSecurity = PodSecurityLevel.restricted
        if let n = f["podSecurity"], let level = d.oneOf(n, f.path("podSecurity"), PodSecurityLevel.self, choices: PodSecurityLevel.allCases) {
            podSecurity = level
        }
        guard let concurrent, let timeout, let rate, let retention, let quotas, let containers else { return nil }
        return PlatformDefaults(maxConcurrentSessions: concurrent, sessionTimeout: timeout, sessionsPerMinute: rate,
                                retention: retention, quotas: quotas, containers: containers, podSecurity: podSecurity)
    }

    private static func resourceList(_ node: YAMLNode, _ path: String, _ d: FileDecoder) -> ResourceList? {
        guard let r = d.mapping(node, path, keys: ["cpu", "memory"]) else { return nil }
        let cpu = r.required("cpu", d).flatMap { d.quantity($0, r.path("cpu")) }
        let memory = r.required("memory", d).flatMap { d.quantity($0, r.path("memory")) }
        guard let cpu, let memory else { return nil }
        return ResourceList(cpu: cpu, memory: memory)
    }

    static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]) else { return false }
        let address = parts[0]
        if address.contains(":") {
            return (0...128).contains(bits) && address.allSatisfy { $0.isHexDigit || $0 == ":" } && address.count >= 2
        }
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        return (0...32).contains(bits) && octets.count == 4
            && octets.allSatisfy { Int($0).map { (0...255).contains($0) } == true && $0.allSatisfy(\.isASCIIDigit) }
    }
}
