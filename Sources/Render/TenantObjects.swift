import Model

/// The objects one tenant gets in each of its namespaces.
enum TenantObjects {
    static let runnerName = "session-runner"
    /// The Role (and RoleBinding) letting the session controller read the tenant's notification signing Secret.
    /// deploy/'s ClusterRole holds `escalate` and `bind` on exactly this Role name (specs/deploy.md).
    static let signingSecretRoleName = "tenantry-signing-secret"
    /// The label the Session controller puts on runner pods; egress allowances select on it.
    static let runnerPodLabel = "app.kubernetes.io/component"

    static func render(_ tenant: Tenant, platform: Platform) -> [JSONObject] {
        tenant.namespaces.flatMap { namespace in objects(for: namespace, of: tenant, platform: platform) }
    }

    private static func objects(for namespace: TenantNamespace, of tenant: Tenant, platform: Platform) -> [JSONObject] {
        let ns = namespace.name
        var objects: [JSONObject] = [
            Kube.object("v1", "Namespace", name: ns, namespace: nil, labels: [
                "pod-security.kubernetes.io/enforce": .string(platform.defaults.podSecurity.rawValue),
                "pod-security.kubernetes.io/warn": .string(platform.defaults.podSecurity.rawValue),
            ]),
            Kube.object("v1", "ServiceAccount", name: runnerName, namespace: ns),
            Kube.object("rbac.authorization.k8s.io/v1", "Role", name: runnerName, namespace: ns, body: [
                "rules": [
                    // The runner reads its Session; only the session controller writes `sessions/status`.
                    Kube.rule(["ambient.ai"], ["sessions"], ["get", "list", "watch"]),
                    Kube.rule(["ambient.ai"], ["namespacepolicies"], ["get"]),
                    Kube.rule([""], ["events"], ["create", "patch"]),
                ],
            ]),
            Kube.object("rbac.authorization.k8s.io/v1", "RoleBinding", name: runnerName, namespace: ns, body: [
                "roleRef": Kube.roleRef("Role", runnerName),
                "subjects": [["kind": "ServiceAccount", "name": .string(runnerName), "namespace": .string(ns)]],
            ]),
        ]
        for role in Role.allCases {
            let subjects = tenant.members.filter { $0.role == role && $0.namespaces.contains(ns) }.map(\.subject).sorted()
            guard !subjects.isEmpty else { continue }
            objects.append(Kube.object("rbac.authorization.k8s.io/v1", "RoleBinding", name: "tenantry-\(role.rawValue)s", namespace: ns, body: [
                "roleRef": Kube.roleRef("ClusterRole", PlatformObjects.clusterRoleName(role)),
                "subjects": .array(subjects.map { subject in
                    ["kind": .string(subject.kind.rawValue), "apiGroup": "rbac.authorization.k8s.io", "name": .string(subject.name)]
                }),
            ]))
        }
        let approvers = tenant.policy.approval.approvers.sorted()
        if !approvers.isEmpty {
            objects.append(Kube.object("rbac.authorization.k8s.io/v1", "RoleBinding", name: "tenantry-approvers", namespace: ns, body: [
                "roleRef": Kube.roleRef("ClusterRole", PlatformObjects.approverRoleName),
                "subjects": .array(approvers.map { group in
                    ["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": .string(group)]
                }),
            ]))
        }
        if let secret = tenant.policy.notificationSecret {
            objects += signingSecretAccess(secret, namespace: ns, controller: platform.controllerServiceAccount)
        }
        let quotas = namespace.quotas
        objects.append(Kube.object("v1", "ResourceQuota", name: "tenant-quota", namespace: ns, body: [
            "spec": ["hard": [
                "count/sessions.ambient.ai": .string(String(quotas.sessions)),
                "pods": .string(String(quotas.pods)),
                "requests.cpu": .string(quotas.cpu.text),
                "requests.memory": .string(quotas.memory.text),
            ]],
        ]))
        let containers = platform.defaults.containers
        objects.append(Kube.object("v1", "LimitRange", name: "tenant-limits", namespace: ns, body: [
            "spec": ["limits": [[
                "type": "Container",
                "default": resources(containers.defaultLimit),
                "defaultRequest": resources(containers.defaultRequest),
                "max": resources(containers.max),
            ]]],
        ]))
        objects += networkPolicies(ns, platform: platform)
        objects.append(namespacePolicy(namespace, of: tenant, platform: platform))
        return objects
    }

    /// `get` on exactly the named Secret, for the controller's ServiceAccount: callbacks are signed with it, read in the
    /// session's namespace when sent. Dropped from the policy, both objects leave the render and Apply prunes them.
    private static func signingSecretAccess(_ secret: String, namespace ns: String, controller: ServiceAccountReference) -> [JSONObject] {
        [
            Kube.object("rbac.authorization.k8s.io/v1", "Role", name: signingSecretRoleName, namespace: ns, body: [
                "rules": [Kube.rule([""], ["secrets"], ["get"], names: [secret])],
            ]),
            Kube.object("rbac.authorization.k8s.io/v1", "RoleBinding", name: signingSecretRoleName, namespace: ns, body: [
                "roleRef": Kube.roleRef("Role", signingSecretRoleName),
                "subjects": [["kind": "ServiceAccount", "name": .string(controller.name), "namespace": .string(controller.namespace)]],
            ]),
        ]
    }

    private static func resources(_ list: ResourceList) -> JSON {
        ["cpu": .string(list.cpu.text), "memory": .string(list.memory.text)]
    }

    /// Default deny, then what sessions need: DNS, their own namespace, and the platform's egress allowances.
    private static func networkPolicies(_ ns: String, platform: Platform) -> [JSONObject] {
        let api = "networking.k8s.io/v1"
        var policies = [
            Kube.object(api, "NetworkPolicy", name: "default-deny", namespace: ns, body: [
                "spec": ["podSelector": [:], "policyTypes": ["Ingress", "Egress"]],
            ]),
            Kube.object(api, "NetworkPolicy", name: "allow-dns", namespace: ns, body: [
                "spec": [
                    "podSelector": [:],
                    "policyTypes": ["Egress"],
                    "egress": [[
                        "to": [[
                            "namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": "kube-system"]],
                            "podSelector": ["matchLabels": ["k8s-app": "kube-dns"]],
                        ]],
                        "ports": [["protocol": "UDP", "port": 53], ["protocol": "TCP", "port": 53]],
                    ]],
                ],
            ]),
            Kube.object(api, "NetworkPolicy", name: "allow-same-namespace", namespace: ns, body: [
                "spec": [
                    "podSelector": [:],
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [["from": [["podSelector": [:]]]]],
                    "egress": [["to": [["podSelector": [:]]]]],
                ],
            ]),
        ]
        if !platform.egress.isEmpty {
            policies.append(Kube.object(api, "NetworkPolicy", name: "allow-runner-egress", namespace: ns, body: [
                "spec": [
                    "podSelector": ["matchLabels": [runnerPodLabel: .string(runnerName)]],
                    "policyTypes": ["Egress"],
                    "egress": .array(platform.egress.map { rule in
                        ["to": [["ipBlock": ["cidr": .string(rule.cidr)]]],
                         "ports": .array(rule.ports.map { ["protocol": "TCP", "port": .int($0)] })]
                    }),
                ],
            ]))
        }
        return policies
    }

    /// The platform's own policy object for the namespace (`ambient.ai/v1alpha1`), read by the session side.
    private static func namespacePolicy(_ namespace: TenantNamespace, of tenant: Tenant, platform: Platform) -> JSONObject {
        let policy = NamespacePolicy(tenant: tenant, namespace: namespace, platform: platform)
        return Kube.object(NamespacePolicy.apiVersion, NamespacePolicy.kind, name: NamespacePolicy.objectName,
                           namespace: namespace.name, body: ["spec": .object(policy.spec)])
    }
}

/// Builders for the shape every Kubernetes object shares.
enum Kube {
    static func object(_ apiVersion: String, _ kind: String, name: String, namespace: String?,
                       labels: JSONObject = [:], body: JSONObject = [:]) -> JSONObject {
        var metadata: JSONObject = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        if !labels.isEmpty { metadata["labels"] = .object(labels) }
        var object: JSONObject = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": .object(metadata)]
        for (key, value) in body.pairs { object[key] = value }
        return object
    }

    /// A PolicyRule; `names` limits it to those objects (`resourceNames`).
    static func rule(_ groups: [String], _ resources: [String], _ verbs: [String], names: [String] = []) -> JSON {
        var rule: JSONObject = ["apiGroups": .strings(groups), "resources": .strings(resources)]
        if !names.isEmpty { rule["resourceNames"] = .strings(names) }
        rule["verbs"] = .strings(verbs)
        return .object(rule)
    }

    static func roleRef(_ kind: String, _ name: String) -> JSON {
        ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(kind), "name": .string(name)]
    }
}
