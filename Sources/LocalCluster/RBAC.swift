import Model

/// One RBAC rule (rbac.authorization.k8s.io/v1 PolicyRule).
struct PolicyRule: Sendable, Hashable {
    var verbs: [String] = []
    var apiGroups: [String] = []
    var resources: [String] = []
    var resourceNames: [String] = []
    var nonResourceURLs: [String] = []

    init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(_ json: JSON) {
        func strings(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
                  resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    var json: JSON {
        var object = JSONObject()
        object["verbs"] = .strings(verbs)
        if !apiGroups.isEmpty || !resources.isEmpty { object["apiGroups"] = .strings(apiGroups) }
        if !resources.isEmpty { object["resources"] = .strings(resources) }
        if !resourceNames.isEmpty { object["resourceNames"] = .strings(resourceNames) }
        if !nonResourceURLs.isEmpty { object["nonResourceURLs"] = .strings(nonResourceURLs) }
        return .object(object)
    }

    /// kube's RuleAllows: verb, group, resource (`pods/log`, `*/status`, `*`) and name, or verb and path.
    func allows(_ request: RequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        guard request.isResourceRequest else {
            return nonResourceURLs.contains { url in
                url == "*" || url == request.path || (url.hasSuffix("*") && request.path.hasPrefix(String(url.dropLast())))
            }
        }
        guard apiGroups.contains("*") || apiGroups.contains(request.apiGroup) else { return false }
        let combined = request.subresource.isEmpty ? request.resource : "\(request.resource)/\(request.subresource)"
        guard resources.contains(where: { $0 == "*" || $0 == combined || (!request.subresource.isEmpty && $0 == "*/\(request.subresource)") }) else {
            return false
        }
        return resourceNames.isEmpty || resourceNames.contains(request.name)
    }
}

/// A RoleBinding's or ClusterRoleBinding's subject.
struct Subject: Sendable, Hashable {
    var kind: String
    var name: String
    var namespace: String

    /// As kube's appliesToUser: a ServiceAccount without a namespace is the binding's own.
    func applies(to user: UserInfo, bindingNamespace: String) -> Bool {
        switch kind {
        case "User": return user.name == name
        case "Group": return user.groups.contains(name)
        case "ServiceAccount":
            let namespace = self.namespace.isEmpty ? bindingNamespace : self.namespace
            return !namespace.isEmpty && user.name == ServiceAccountName(namespace: namespace, name: name).username
        default: return false
        }
    }

    /// How kube names a subject in an RBAC reason: `Group "x"`, `ServiceAccount "name/namespace"`.
    func describe(bindingNamespace: String) -> String {
        kind == "ServiceAccount" ? "\(kind) \"\(name)/\(namespace.isEmpty ? bindingNamespace : namespace)\"" : "\(kind) \"\(name)\""
    }
}

struct Binding: Sendable, Hashable {
    var name: String
    /// Empty for a ClusterRoleBinding.
    var namespace: String
    var roleKind: String
    var roleName: String
    var subjects: [Subject]

    init(_ json: JSON) {
        name = json.name
        namespace = json.namespace
        roleKind = json.value(at: ["roleRef", "kind"])?.stringValue ?? ""
        roleName = json.value(at: ["roleRef", "name"])?.stringValue ?? ""
        subjects = (json["subjects"]?.arrayValue ?? []).map { subject in
            Subject(kind: subject["kind"]?.stringValue ?? "", name: subject["name"]?.stringValue ?? "",
                    namespace: subject["namespace"]?.stringValue ?? "")
        }
    }

    /// `ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`, `RoleBinding "x/ns" of Role "y" to User "z"`.
    func describe(_ subject: Subject) -> String {
        let binding = namespace.isEmpty ? "ClusterRoleBinding \"\(name)\"" : "RoleBinding \"\(name)/\(namespace)\""
        return "\(binding) of \(roleKind) \"\(roleName)\" to \(subject.describe(bindingNamespace: namespace))"
    }
}

/// Every RBAC object at one moment, with aggregated ClusterRoles resolved.
struct RBACPolicy: Sendable {
    var clusterRoleRules: [String: [PolicyRule]] = [:]
    var roleRules: [String: [String: [PolicyRule]]] = [:]
    var clusterRoleBindings: [Binding] = []
    var roleBindings: [String: [Binding]] = [:]

    init(clusterRoles: [JSON], roles: [JSON], clusterRoleBindings: [JSON], roleBindings: [JSON]) {
        for role in clusterRoles { clusterRoleRules[role.name] = (role["rules"]?.arrayValue ?? []).map(PolicyRule.init) }
        // An aggregated ClusterRole holds the rules of every ClusterRole its selectors match (what
        // kube's aggregation controller writes into it).
        // Passes until nothing changes, so an aggregate of aggregates ends up with every rule.
        let aggregated = clusterRoles.compactMap { role in
            role.value(at: ["aggregationRule", "clusterRoleSelectors"])?.arrayValue.map { selectors in
                (role.name, clusterRoles.filter { other in other.name != role.name && selectors.contains { Self.selects($0, other.labels) } }
                    .map(\.name).sorted())
            }
        }
        var changed = true
        var passes = 0
        while changed, passes <= aggregated.count {
            changed = false
            passes += 1
            for (name, members) in aggregated {
                var rules = clusterRoleRules[name] ?? []
                for member in members {
                    for rule in clusterRoleRules[member] ?? [] where !rules.contains(rule) {
                        rules.append(rule)
                        changed = true
                    }
                }
                clusterRoleRules[name] = rules
            }
        }
        for role in roles { roleRules[role.namespace, default: [:]][role.name] = (role["rules"]?.arrayValue ?? []).map(PolicyRule.init) }
        self.clusterRoleBindings = clusterRoleBindings.map(Binding.init)
        for binding in roleBindings { self.roleBindings[binding.namespace, default: []].append(Binding(binding)) }
    }

    /// matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) of a label selector.
    static func selects(_ selector: JSON, _ labels: [String: String]) -> Bool {
        for (key, value) in selector["matchLabels"]?.objectValue?.pairs.map({ ($0.0, $0.1) }) ?? [] where labels[key] != value.stringValue {
            return false
        }
        for expression in selector["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch expression["operator"]?.stringValue {
            case "In": if !values.contains(labels[key] ?? "\u{0}") { return false }
            case "NotIn": if let value = labels[key], values.contains(value) { return false }
            case "Exists": if labels[key] == nil { return false }
            case "DoesNotExist": if labels[key] != nil { return false }
            default: return false
            }
        }
        return true
    }

    func rules(of binding: Binding) -> [PolicyRule] {
        switch binding.roleKind {
        case "ClusterRole": return clusterRoleRules[binding.roleName] ?? []
        case "Role" where !binding.namespace.isEmpty: return roleRules[binding.namespace]?[binding.roleName] ?? []
        default: return []
        }
    }

    /// The bindings that apply to a user where a request in `namespace` is evaluated: every
    /// ClusterRoleBinding, and the RoleBindings of that namespace.
    func bindings(for user: UserInfo, namespace: String) -> [(Binding, Subject)] {
        var found: [(Binding, Subject)] = []
        for binding in clusterRoleBindings + (namespace.isEmpty ? [] : roleBindings[namespace] ?? []) {
            if let subject = binding.subjects.first(where: { $0.applies(to: user, bindingNamespace: binding.namespace) }) {
                found.append((binding, subject))
            }
        }
        return found
    }

    /// Allowed with the reason kube gives (`RBAC: allowed by …`), or denied with no reason.
    func authorize(_ user: UserInfo, _ request: RequestAttributes) -> AuthorizationDecision {
        if user.groups.contains(Groups.masters) { return AuthorizationDecision(allowed: true, reason: "") }
        for (binding, subject) in bindings(for: user, namespace: request.namespace) {
            // A RoleBinding grants nothing outside its namespace, and no paths.
            if !binding.namespace.isEmpty, !request.isResourceRequest { continue }
            if rules(of: binding).contains(where: { $0.allows(request) }) {
                return AuthorizationDecision(allowed: true, reason: "RBAC: allowed by \(binding.describe(subject))")
            }
        }
        return AuthorizationDecision(allowed: false, reason: "")
    }

    /// SelfSubjectRulesReview: what the user may do in a namespace (cluster-wide rules included).
    func rules(for user: UserInfo, namespace: String) -> (resource: [PolicyRule], nonResource: [PolicyRule]) {
        var resource: [PolicyRule] = []
        var nonResource: [PolicyRule] = []
        for (binding, _) in bindings(for: user, namespace: namespace) {
            for rule in rules(of: binding) {
                if !rule.resources.isEmpty, !resource.contains(rule) {
                    resource.append(PolicyRule(verbs: rule.verbs, apiGroups: rule.apiGroups, resources: rule.resources, resourceNames: rule.resourceNames))
                }
                if binding.namespace.isEmpty, !rule.nonResourceURLs.isEmpty {
                    let only = PolicyRule(verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs)
                    if !nonResource.contains(only) { nonResource.append(only) }
                }
            }
        }
        return (resource, nonResource)
    }
}

struct AuthorizationDecision: Sendable, Hashable {
    var allowed: Bool
    var reason: String
}
