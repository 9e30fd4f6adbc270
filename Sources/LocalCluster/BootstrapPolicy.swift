import Foundation
import Model

/// The ClusterRoles and ClusterRoleBindings kube-apiserver creates at start that matter here:
/// cluster-admin for `system:masters`, self-reviews for every authenticated user, discovery and
/// version for everyone who authenticated. Created when missing; edits to them are kept.
enum BootstrapPolicy {
    static let discoveryURLs = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]
    static let publicInfoURLs = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

    static let clusterRoles: [(String, [PolicyRule])] = [
        ("cluster-admin", [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]),
        ("system:basic-user", [
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
        ]),
        ("system:discovery", [PolicyRule(verbs: ["get"], nonResourceURLs: discoveryURLs)]),
        ("system:public-info-viewer", [PolicyRule(verbs: ["get"], nonResourceURLs: publicInfoURLs)]),
        ("system:service-account-issuer-discovery", [PolicyRule(verbs: ["get"], nonResourceURLs: [
            "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/",
        ])]),
        ("system:auth-delegator", [
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"]),
        ]),
    ]

    static let clusterRoleBindings: [(String, [String])] = [
        ("cluster-admin", [Groups.masters]),
        ("system:basic-user", [Groups.authenticated]),
        ("system:discovery", [Groups.authenticated]),
        ("system:public-info-viewer", [Groups.authenticated, Groups.unauthenticated]),
        ("system:service-account-issuer-discovery", [Groups.serviceAccounts]),
    ]

    static func write(_ transaction: StoreTransaction, now: String) throws {
        func create(_ type: ResourceType, _ name: String, _ body: JSONObject) throws {
            guard try transaction.get(type, namespace: "", name: name) == nil else { return }
            var object: JSONObject = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": .string(type.kind),
                "metadata": ["name": .string(name), "uid": .string(UUID().uuidString.lowercased()),
                             "resourceVersion": .string(String(try transaction.nextResourceVersion())), "creationTimestamp": .string(now),
                             "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"],
                             "annotations": ["rbac.authorization.kubernetes.io/autoupdate": "true"]],
            ]
            for (key, value) in body.pairs { object[key] = value }
            try transaction.put(type, .object(object), previous: nil)
        }
        for (name, rules) in clusterRoles { try create(.clusterRoles, name, ["rules": .array(rules.map(\.json))]) }
        for (name, groups) in clusterRoleBindings {
            try create(.clusterRoleBindings, name, [
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(name)],
                "subjects": .array(groups.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string($0)] }),
            ])
        }
    }
}
