/// Names one Kubernetes object: `Kind/namespace/name`, or `Kind/name` when cluster-scoped.
public struct ObjectReference: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let apiVersion: String
    public let kind: String
    public let namespace: String?
    public let name: String

    public init(apiVersion: String, kind: String, namespace: String?, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }

    public var description: String { namespace.map { "\(kind)/\($0)/\(name)" } ?? "\(kind)/\(name)" }

    public static func < (a: ObjectReference, b: ObjectReference) -> Bool {
        (a.kind, a.namespace ?? "", a.name, a.apiVersion) < (b.kind, b.namespace ?? "", b.name, b.apiVersion)
    }
}

/// One rendered Kubernetes object and who it belongs to.
public struct Manifest: Sendable, Hashable {
    public let reference: ObjectReference
    /// The tenant name, or `Manifest.platformOwner` for the shared objects.
    public let owner: String
    public let object: JSONObject

    /// The `tenantry.dev/tenant` label value of shared objects (CRDs, ClusterRoles). It holds a dot, so no
    /// tenant (a DNS label) can ever share it.
    public static let platformOwner = "tenantry.platform"

    public init(owner: String, object: JSONObject) {
        let metadata = object["metadata"]?.objectValue
        self.reference = ObjectReference(apiVersion: object["apiVersion"]?.stringValue ?? "",
                                         kind: object["kind"]?.stringValue ?? "",
                                         namespace: metadata?["namespace"]?.stringValue,
                                         name: metadata?["name"]?.stringValue ?? "")
        self.owner = owner
        self.object = object
    }
}

/// Labels and annotations every rendered object carries.
public enum ManagedBy {
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let managedByValue = "tenantry"
    public static let tenantLabel = "tenantry.dev/tenant"
    public static let contentHashAnnotation = "tenantry.dev/content-hash"
}
