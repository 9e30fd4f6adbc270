/// A ServiceAccount by namespace and name. `platform.yaml` `controller.serviceAccount` names the one Tenantry's
/// session controller runs as, so Render can bind it the few per-namespace permissions it needs there (reading a
/// tenant's notification signing Secret, by name).
public struct ServiceAccountReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// What `deploy/` installs: the ServiceAccount `tenantry` in `tenantry-system`.
    public static let deployDefault = ServiceAccountReference(namespace: "tenantry-system", name: "tenantry")

    public var description: String { "\(namespace)/\(name)" }
}
