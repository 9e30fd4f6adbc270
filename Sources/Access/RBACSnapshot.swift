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

        var concernsSessions: Bool {
            (groups.contains("*") || groups.contains(AccessRequest.group))
                && resources.contains { $0 == "*" || $0 == AccessRequest.resource || $0.hasPrefix(AccessRequest.resource + "/") || $0.hasPrefix("*/") }
        }

        /// Namespace-wide: rules limited to resourceNames do not grant a verb on every session.
        func grants(_ verb: String, group: String, resource: String) -> Bool {
            names.isEmpty && (verbs.contains("*") || verbs.contains(verb)) && (groups.contains("*") || groups.contains(group))
                && (resources.contains("*") || resources.contains(resource) || (resource.contains("/") && resources.contains("*/" + resource.split(separator: "/", maxSplits: 1)[1])))
        }
    }

    /// A subject as a lookup key: `User:name` (ServiceAccounts as their user name) or `Group:name`.
    static func userKey(_ name: String) -> String { "User:" + name }
    static func groupKey(_ name: String) -> String { "Group:" + name }

    /// For each subject, the rules bound to it per namespace ("" for ClusterRoleBindings, which apply in
    /// every namespace), roles resolved: a caller's grants are a few lookups, not a scan of every binding.
    private let grants: [String: [(namespace: String, rules: [Rule])]]

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
        var index: [String: [(namespace: String, rules: [Rule])]] = [:]
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
            // Only rules that can touch sessions are kept: most bootstrap grants (discovery for
            // system:authenticated, …) then drop out, and evaluating a caller stays a few comparisons.
            let relevant = granted.filter(\.concernsSessions)
            guard !relevant.isEmpty else { continue }
            for subject in binding["subjects"]?.arrayValue ?? [] {
                let subjectName = subject["name"]?.stringValue ?? ""
                let key: String
                switch subject["kind"]?.stringValue {
                case "User": key = Self.userKey(subjectName)
                case "Group": key = Self.groupKey(subjectName)
                case "ServiceAccount":
                    let home = subject["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? bindingNamespace
                    key = Self.userKey("system:serviceaccount:\(home):\(subjectName)")
                default: continue
                }
                index[key, default: []].append((bindingNamespace, relevant))
            }
        }
        grants = index
    }

    /// What the caller may do to sessions in each namespace (those where they may do nothing are left out).
    public func permissions(of caller: Caller, in namespaces: [String]) -> [String: NamespacePermission] {
        var clusterRules: [Rule] = []
        var byNamespace: [String: [Rule]] = [:]
        for key in [Self.userKey(caller.user)] + caller.groups.map(Self.groupKey) {
            for grant in grants[key] ?? [] {
                if grant.namespace.isEmpty { clusterRules += grant.rules } else { byNamespace[grant.namespace, default: []] += grant.rules }
            }
        }
        func permission(_ rules: [Rule]) -> NamespacePermission? {
            guard !rules.isEmpty else { return nil }
            func may(_ verb: String, _ resource: String = AccessRequest.resource) -> Bool {
                rules.contains { $0.grants(verb, group: AccessRequest.group, resource: resource) }
            }
            let level: NamespacePermission.Level?
            if may("get", "sessions/audit") && may("create") { level = .admin }
            else if may("create") { level = .editor }
            else if may("list") { level = .viewer }
            else { level = nil }
            let canApprove = may(SessionAction.approve.verb)
            return level != nil || canApprove ? NamespacePermission(level: level, canApprove: canApprove) : nil
        }
        // Namespaces with no binding of their own all answer what the cluster-wide grants give: once.
        let everywhere = permission(clusterRules)
        var answer: [String: NamespacePermission] = [:]
        for namespace in namespaces {
            if let own = byNamespace[namespace] {
                answer[namespace] = permission(clusterRules + own)
            } else if let everywhere {
                answer[namespace] = everywhere
            }
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
