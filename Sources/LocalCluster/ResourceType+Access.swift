/// The kinds of identity and access: Leases for leader election and the review kinds of the auth APIs.
extension ResourceType {
    static let rbacGroup = "rbac.authorization.k8s.io"

    static let accessKinds: [ResourceType] = [
        ResourceType(group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease", namespaced: true),
        review("authentication.k8s.io", "tokenreviews", "TokenReview"),
        review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
        review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
        review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
        review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", namespaced: true),
    ]

    private static func review(_ group: String, _ plural: String, _ kind: String, namespaced: Bool = false) -> ResourceType {
        ResourceType(group: group, version: "v1", plural: plural, singular: "", kind: kind, namespaced: namespaced, createOnly: true)
    }

    static func builtIn(_ storageKey: String) -> ResourceType { builtIn.first { $0.storageKey == storageKey }! }

    static let serviceAccounts = builtIn("serviceaccounts")
    static let pods = builtIn("pods")
    static let secrets = builtIn("secrets")
    static let leases = builtIn("leases.coordination.k8s.io")
    static let roles = builtIn("roles.rbac.authorization.k8s.io")
    static let roleBindings = builtIn("rolebindings.rbac.authorization.k8s.io")
    static let clusterRoles = builtIn("clusterroles.rbac.authorization.k8s.io")
    static let clusterRoleBindings = builtIn("clusterrolebindings.rbac.authorization.k8s.io")
}
