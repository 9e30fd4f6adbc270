import Model

/// The cluster's RBAC objects at one moment, evaluated in process the way SelfSubjectRulesReview
/// evaluates them: which verbs on `sessions.ambient.ai` a caller holds in each namespace. It answers
/// `/user/namespaces` for thousands of callers × namespaces without a review per namespace per request.
/// It is a listing only: every action is still authorized by its own SubjectAccessReview.
public struct RBACSnapshot: Sendable {
    struct Rule: Sendable, Hashable {
        var groups: [String]
        var resources: [String]
        var verbs: [String]
        var names: [String]

        /// Namespace-wide: rules limited to resourceNames do not grant a verb on every session.
        func grants(_ verb: String, group: String, resource: String) -> Bool {
            names.isEmpty && (verbs.contains("*") || verbs.contains(verb)) && (groups.contains("*") || groups.contains(group))
                && (resources.contains("*") || resources.contains(resource) || (resource.contains("/") && resources.contains("*/" + resource.split(separator: "/", maxSplits: 1)[1])))
        }
    }

    struct Subject: Sendable, Hashable {
        var kind: String
        var name: String
        var namespace: String

        func matches(user: String, groups: Set<String>, bindingNamespace: String) -> Bool {
            switch kind {
            case "User": return name == user
            case "Group": return groups.contains(name)
            case "ServiceAccount": return user == "system:serviceaccount:\(namespace.isEmpty ? bindingNamespace : namespace):\(name)"
            default: return false
            }
        }
    }

    struct Binding: Sendable {
        var namespace: String
        var subjects: [Subject]
        var rules: [Rule]
    }

    /// Bindings by namespace ("" for ClusterRoleBindings, which apply in every namespace), roles resolved.
    private let bindings: [String: [Binding]]

    public init(clusterRoles: [JSONObject], clusterRoleBindings: [JSONObject], roles: [JSONObject], roleBindings: [JSONObject]) {
        func name(_ object: JSONObject) -> String { object["metadata"]?["name"]?.stringValue ?? "" }
        func namespace(_ object: JSONObject) -> String { object["metadata"]?["namespace"]?.stringValue ?? "" }
        func rules(_ object: JSONObject) -> [Rule] {
            (object["rules"]?.arrayValue ?? []).map { rule in
                func strings(_ key: String) -> [String] { rule[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
                return Rule(groups: strings("apiGroups"), resources: strings("resources"), verbs: strings("verbs"), names: strings("resourceNames"))
            }
        }
        let clusterRolesByName = Dictionary(clusterRoles.map { (name($0), $0) }, uniquingKeysWith: { first, _ in first })
        // Aggregated ClusterRoles hold the rules of every ClusterRole their selectors match, transitively.
        func clusterRules(_ roleName: String, _ seen: inout Set<String>) -> [Rule] {
            guard seen.insert(roleName).inserted, let role = clusterRolesByName[roleName] else { return [] }
            var found = rules(role)
            for selector in role["aggregationRule"]?["clusterRoleSelectors"]?.arrayValue ?? [] {
                let wanted = selector["matchLabels"]?.objectValue?.pairs.compactMap { key, value in value.stringValue.map { (key, $0) } } ?? []
                guard !wanted.isEmpty else { continue }
                for candidate in clusterRoles {
                    let labels = candidate["metadata"]?["labels"]
                    if wanted.allSatisfy({ labels?[$0.0]?.stringValue == $0.1 }) { found += clusterRules(name(candidate), &seen) }
                }
            }
            return found
        }
        let rolesByKey = Dictionary(roles.map { ("\(namespace($0))/\(name($0))", rules($0)) }, uniquingKeysWith: { first, _ in first })
        var table: [String: [Binding]] = [:]
        for (binding, clusterWide) in clusterRoleBindings.map({ ($0, true) }) + roleBindings.map({ ($0, false) }) {
            let bindingNamespace = clusterWide ? "" : namespace(binding)
            let reference = binding["roleRef"]
            let roleName = reference?["name"]?.stringValue ?? ""
            var seen = Set<String>()
            let granted: [Rule]
            switch reference?["kind"]?.stringValue {
            case "ClusterRole": granted = clusterRules(roleName, &seen)
            case "Role" where !clusterWide: granted = rolesByKey["\(bindingNamespace)/\(roleName)"] ?? []
            default: granted = []
            }
            let subjects = (binding["subjects"]?.arrayValue ?? []).map {
                Subject(kind: $0["kind"]?.stringValue ?? "", name: $0["name"]?.stringValue ?? "", namespace: $0["namespace"]?.stringValue ?? "")
            }
            guard !granted.isEmpty, !subjects.isEmpty else { continue }
            table[bindingNamespace, default: []].append(Binding(namespace: bindingNamespace, subjects: subjects, rules: granted))
        }
        bindings = table
    }

    /// What the caller may do to sessions in each namespace (those where they may do nothing are left out).
    public func permissions(of caller: Caller, in namespaces: [String]) -> [String: NamespacePermission] {
        let groups = Set(caller.groups)
        let clusterRules = (bindings[""] ?? []).filter { binding in
            binding.subjects.contains { $0.matches(user: caller.user, groups: groups, bindingNamespace: "") }
        }.flatMap(\.rules)
        var answer: [String: NamespacePermission] = [:]
        for namespace in namespaces {
            let rules = clusterRules + (bindings[namespace] ?? []).filter { binding in
                binding.subjects.contains { $0.matches(user: caller.user, groups: groups, bindingNamespace: namespace) }
            }.flatMap(\.rules)
            guard !rules.isEmpty else { continue }
            func may(_ verb: String, _ resource: String = AccessRequest.resource) -> Bool {
                rules.contains { $0.grants(verb, group: AccessRequest.group, resource: resource) }
            }
            let level: NamespacePermission.Level?
            if may("update", "sessions/status") && may("create") { level = .admin }
            else if may("create") { level = .editor }
            else if may("list") { level = .viewer }
            else { level = nil }
            let canApprove = may(SessionAction.approve.verb)
            guard level != nil || canApprove else { continue }
            answer[namespace] = NamespacePermission(level: level, canApprove: canApprove)
        }
        return answer
    }
}

/// A caller's standing in one namespace, as `/user/namespaces` reports it.
public struct NamespacePermission: Sendable, Hashable {
    /// viewer lists and reads; editor also starts, stops and reruns; admin also writes status (the rendered tenantry:* roles).
    public enum Level: String, Sendable, Hashable, Comparable {
        case viewer, editor, admin
        public static func < (a: Level, b: Level) -> Bool { [Level.viewer, .editor, .admin].firstIndex(of: a)! < [Level.viewer, .editor, .admin].firstIndex(of: b)! }
    }

    /// nil: the caller may approve but not read (an approver group bound alone).
    public var level: Level?
    public var canApprove: Bool

    public init(level: Level?, canApprove: Bool) {
        self.level = level
        self.canApprove = canApprove
    }
}
