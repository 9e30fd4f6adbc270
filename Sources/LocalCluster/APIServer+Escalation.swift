import Model

/// RBAC's escalation prevention: a user may write a Role or ClusterRole only with rules they already
/// hold (or the `escalate` verb on it), and bind a role only if they hold its rules (or the `bind`
/// verb on it), so nobody grants what they do not have.
extension APIServer {
    /// The check for a write to an RBAC object by this user, or nil when none applies. The policy is
    /// read here, before the write's transaction begins.
    func escalationCheck(_ target: ResourceRoute, user: UserInfo) throws -> ((JSON) throws -> Void)? {
        guard target.type.group == ResourceType.rbacGroup, target.subresource == nil, !user.groups.contains(Groups.masters) else { return nil }
        let policy = try authorizer.policy()
        let type = target.type
        return { object in
            let namespace = object.namespace
            // A ClusterRole or ClusterRoleBinding (no namespace) needs the rules held cluster-wide.
            let rules = policy.rules(for: user, namespace: namespace)
            let held = rules.resource + rules.nonResource
            let asked: [PolicyRule]
            let permission: RequestAttributes
            switch type.plural {
            case "roles", "clusterroles":
                asked = (object["rules"]?.arrayValue ?? []).map(PolicyRule.init)
                permission = .resource(verb: "escalate", group: ResourceType.rbacGroup, resource: type.plural, namespace: namespace, name: object.name)
            default:
                let binding = Binding(object)
                asked = policy.rules(of: binding)
                permission = .resource(verb: "bind", group: ResourceType.rbacGroup, resource: binding.roleKind == "Role" ? "roles" : "clusterroles",
                                       namespace: namespace, name: binding.roleName)
            }
            let missing = asked.flatMap(\.atoms).filter { atom in !held.contains { $0.covers(atom) } }
            guard !missing.isEmpty, !policy.authorize(user, permission).allowed else { return }
            let groups = "[" + user.groups.map { "\"\($0)\"" }.joined(separator: ",") + "]"
            throw APIError(code: 403, reason: "Forbidden",
                           message: "\(type.qualifiedName) \"\(object.name)\" is forbidden: user \"\(user.name)\" (groups=\(groups)) is attempting to grant RBAC permissions not currently held:\n"
                               + missing.map(\.compactDescription).joined(separator: "\n"),
                           details: APIError.details(type, name: object.name))
        }
    }
}

extension PolicyRule {
    /// The rule broken into one verb, group, resource and name (or URL) each, as kube checks coverage.
    var atoms: [PolicyRule] {
        var atoms: [PolicyRule] = []
        for verb in verbs {
            for url in nonResourceURLs { atoms.append(PolicyRule(verbs: [verb], nonResourceURLs: [url])) }
            for group in apiGroups {
                for resource in resources {
                    if resourceNames.isEmpty {
                        atoms.append(PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource]))
                    } else {
                        atoms += resourceNames.map { PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [$0]) }
                    }
                }
            }
        }
        return atoms
    }

    /// Whether this rule grants all of an atom (kube's ruleCovers): `*` covers anything, a requested
    /// `*` only a `*`.
    func covers(_ atom: PolicyRule) -> Bool {
        guard verbs.contains("*") || verbs.contains(atom.verbs[0]) else { return false }
        if let url = atom.nonResourceURLs.first {
            return nonResourceURLs.contains { $0 == "*" || $0 == url || ($0.hasSuffix("*") && url.hasPrefix(String($0.dropLast()))) }
        }
        guard apiGroups.contains("*") || apiGroups.contains(atom.apiGroups[0]) else { return false }
        let resource = atom.resources[0]
        let subresource = resource.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init)
        guard resources.contains(where: { $0 == "*" || $0 == resource || (subresource != nil && $0 == "*/\(subresource!)") }) else { return false }
        return resourceNames.isEmpty || atom.resourceNames.first.map(resourceNames.contains) == true
    }

    /// kube's CompactString: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`.
    var compactDescription: String {
        func list(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: " ") + "]" }
        var parts: [String] = []
        if !apiGroups.isEmpty { parts.append("APIGroups:" + list(apiGroups)) }
        if !resources.isEmpty { parts.append("Resources:" + list(resources)) }
        if !resourceNames.isEmpty { parts.append("ResourceNames:" + list(resourceNames)) }
        if !nonResourceURLs.isEmpty { parts.append("NonResourceURLs:" + list(nonResourceURLs)) }
        parts.append("Verbs:" + list(verbs))
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
