import Model

/// One REST resource the server serves: where it lives (group, version, plural) and what it holds.
struct ResourceType: Sendable, Hashable {
    var group: String
    var version: String
    var plural: String
    var singular: String
    var kind: String
    var namespaced: Bool
    var shortNames: [String] = []
    /// Writes to the main resource keep `.status`; only the `/status` subresource changes it.
    var hasStatusSubresource = false
    /// The CRD's `openAPIV3Schema` for this version; nil for built-in kinds (checked against BuiltInSchema).
    var schema: JSON? = nil
    /// A review kind (SubjectAccessReview, TokenReview…): POST answers it, nothing is stored.
    var createOnly = false
    /// Another resource whose rows this one reads and writes through a conversion (StoredForm):
    /// `events.events.k8s.io` is `events`, as in Kubernetes.
    var storedAs: String? = nil
    /// Field selector labels beyond metadata.name and metadata.namespace, as kube-apiserver supports them.
    var fieldLabels: [String] = []
    /// A CRD's scale subresource: where `spec.replicas`, `status.replicas` and the selector live.
    var scale: ScalePaths? = nil

    /// `v1` for the core group, `group/version` otherwise.
    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// The storage key: one row namespace per group and plural, whatever the version.
    var storageKey: String { storedAs ?? (group.isEmpty ? plural : "\(plural).\(group)") }
    /// `configmaps` or `sessions.tenantry.dev`, as kubectl names resources in messages.
    var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }
    var listKind: String { kind + "List" }

    static let verbs: [String] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
}

extension ResourceType {
    /// The built-in kinds Tenantry writes or reads. Their contents are stored as sent, not validated.
    static let builtIn: [ResourceType] = [
        ResourceType(group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"]),
        ResourceType(group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, shortNames: ["cm"]),
        ResourceType(group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", namespaced: true),
        ResourceType(group: "", version: "v1", plural: "resourcequotas", singular: "resourcequota", kind: "ResourceQuota", namespaced: true, shortNames: ["quota"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "limitranges", singular: "limitrange", kind: "LimitRange", namespaced: true, shortNames: ["limits"]),
        ResourceType(group: "", version: "v1", plural: "pods", singular: "pod", kind: "Pod", namespaced: true, shortNames: ["po"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "nodes", singular: "node", kind: "Node", namespaced: false, shortNames: ["no"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"],
                     fieldLabels: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                                   "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                                   "reason", "reportingComponent", "source", "type"]),
        ResourceType(group: "events.k8s.io", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"],
                     storedAs: "events",
                     fieldLabels: ["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion",
                                   "regarding.resourceVersion", "regarding.fieldPath", "reason", "reportingController", "type"]),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", singular: "role", kind: "Role", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", singular: "rolebinding", kind: "RoleBinding", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", singular: "clusterrole", kind: "ClusterRole", namespaced: false),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterrolebindings", singular: "clusterrolebinding", kind: "ClusterRoleBinding", namespaced: false),
        ResourceType(group: "networking.k8s.io", version: "v1", plural: "networkpolicies", singular: "networkpolicy", kind: "NetworkPolicy", namespaced: true, shortNames: ["netpol"]),
        ResourceType(group: "batch", version: "v1", plural: "jobs", singular: "job", kind: "Job", namespaced: true, hasStatusSubresource: true),
        // Stored and validated only (no controller runs them): the kinds `kubectl apply --prune` looks
        // up by default, so it needs no --prune-allowlist.
        ResourceType(group: "", version: "v1", plural: "services", singular: "service", kind: "Service", namespaced: true, shortNames: ["svc"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "endpoints", singular: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"]),
        ResourceType(group: "", version: "v1", plural: "persistentvolumeclaims", singular: "persistentvolumeclaim", kind: "PersistentVolumeClaim", namespaced: true, shortNames: ["pvc"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "persistentvolumes", singular: "persistentvolume", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"], hasStatusSubresource: true),
        ResourceType(group: "", version: "v1", plural: "replicationcontrollers", singular: "replicationcontroller", kind: "ReplicationController", namespaced: true, shortNames: ["rc"], hasStatusSubresource: true),
        ResourceType(group: "batch", version: "v1", plural: "cronjobs", singular: "cronjob", kind: "CronJob", namespaced: true, shortNames: ["cj"], hasStatusSubresource: true),
        ResourceType(group: "networking.k8s.io", version: "v1", plural: "ingresses", singular: "ingress", kind: "Ingress", namespaced: true, shortNames: ["ing"], hasStatusSubresource: true),
        ResourceType(group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, shortNames: ["deploy"], hasStatusSubresource: true),
        ResourceType(group: "apps", version: "v1", plural: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], hasStatusSubresource: true),
        ResourceType(group: "apps", version: "v1", plural: "statefulsets", singular: "statefulset", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], hasStatusSubresource: true),
        ResourceType(group: "apps", version: "v1", plural: "daemonsets", singular: "daemonset", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], hasStatusSubresource: true),
        ResourceType(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", singular: "customresourcedefinition", kind: "CustomResourceDefinition", namespaced: false, shortNames: ["crd", "crds"], hasStatusSubresource: true),
    ] + accessKinds

    static let namespaces = builtIn[0]
    static let customResourceDefinitions = builtIn.first { $0.plural == "customresourcedefinitions" }!

    /// The resource types a stored CRD defines, one per served version.
    static func defined(by crd: JSON) -> [ResourceType] {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue, let names = spec["names"],
              let plural = names["plural"]?.stringValue, let kind = names["kind"]?.stringValue else { return [] }
        let singular = names["singular"]?.stringValue ?? kind.lowercased()
        let shortNames = names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        return (spec["versions"]?.arrayValue ?? []).compactMap { version in
            guard let name = version["name"]?.stringValue, version["served"] != .bool(false) else { return nil }
            return ResourceType(group: group, version: name, plural: plural, singular: singular, kind: kind,
                                namespaced: namespaced, shortNames: shortNames,
                                hasStatusSubresource: version["subresources"]?["status"] != nil,
                                schema: version["schema"]?["openAPIV3Schema"], scale: ScalePaths(version["subresources"]?["scale"]))
        }
    }
}
