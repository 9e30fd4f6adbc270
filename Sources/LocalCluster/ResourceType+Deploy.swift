/// The kinds of Tenantry's own installation (`deploy/`): stored so `kubectl apply -k deploy/` (and its
/// server-side dry run) works against the local cluster; nothing here runs them.
extension ResourceType {
    static let deployKinds: [ResourceType] = [
        ResourceType(group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment", namespaced: true,
                     shortNames: ["deploy"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "services", singular: "service", kind: "Service", namespaced: true,
                     shortNames: ["svc"], hasStatusSubresource: true),
        ResourceType(group: "policy", version: "v1", plural: "poddisruptionbudgets", singular: "poddisruptionbudget", kind: "PodDisruptionBudget",
                     namespaced: true, shortNames: ["pdb"], hasStatusSubresource: true),
    ]
}
