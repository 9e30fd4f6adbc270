import Model
import Support

/// Every valid tenant's objects and the shared ones, labelled, hashed and ordered for apply.
public struct RenderedRepo: Sendable {
    public let platform: Platform
    /// CRDs and ClusterRoles, owned by `Manifest.platformOwner`.
    public let platformManifests: [Manifest]
    /// Sorted by name; invalid tenants carry diagnostics and no manifests.
    public let tenants: [TenantResult]

    /// All objects in apply order: the shared ones, then each valid tenant's.
    public var manifests: [Manifest] { platformManifests + tenants.flatMap(\.manifests) }

    public var diagnostics: [Diagnostic] { tenants.flatMap(\.diagnostics) }
    public var invalidTenants: [TenantResult] { tenants.filter { !$0.isValid } }
}

public enum Renderer {
    public static func render(_ repo: ValidatedRepo) -> RenderedRepo {
        RenderedRepo(platform: repo.platform, platformManifests: platformManifests(),
                     tenants: render(repo.tenants, platform: repo.platform))
    }

    /// The shared objects: CRDs and ClusterRoles.
    public static func platformManifests() -> [Manifest] {
        finish(PlatformObjects.render(), owner: Manifest.platformOwner)
    }

    /// Renders the valid tenants among `tenants`, on all cores; invalid ones come back as they were.
    /// Rendering a repo in slices of tenants gives the same objects as rendering it whole.
    public static func render(_ tenants: [TenantResult], platform: Platform) -> [TenantResult] {
        parallelMap(tenants) { result -> TenantResult in
            guard let tenant = result.tenant else { return result }
            var rendered = result
            rendered.manifests = finish(TenantObjects.render(tenant, platform: platform), owner: tenant.name)
            return rendered
        }
    }

    /// Where a kind stands in apply order: definitions and cluster-wide objects first, then what lives in namespaces.
    public static func applyRank(_ kind: String) -> Int {
        switch kind {
        case "CustomResourceDefinition": return 0
        case "ClusterRole": return 1
        case "ClusterRoleBinding": return 2
        case "Namespace": return 3
        case "ServiceAccount": return 4
        case "Role": return 5
        case "RoleBinding": return 6
        case "ResourceQuota": return 7
        case "LimitRange": return 8
        case "NetworkPolicy": return 9
        default: return 10
        }
    }

    /// Adds the ownership labels and the content hash, then sorts into apply order.
    static func finish(_ objects: [JSONObject], owner: String) -> [Manifest] {
        // Each object's rank is worked out once, not at every comparison.
        let ranked = objects.map { object -> (rank: Int, manifest: Manifest) in
            let manifest = stamp(object, owner: owner)
            return (applyRank(manifest.reference.kind), manifest)
        }
        return ranked.sorted { a, b in (a.rank, a.manifest.reference) < (b.rank, b.manifest.reference) }.map(\.manifest)
    }

    /// The hash covers the whole object as written, labels included, so any change to what Tenantry sends changes it.
    static func stamp(_ object: JSONObject, owner: String) -> Manifest {
        var object = object
        object.update("metadata") { metadata in
            metadata.updateObject { metadata in
                metadata.update("labels") { labels in
                    var stamped: JSONObject = [ManagedBy.managedByLabel: .string(ManagedBy.managedByValue), ManagedBy.tenantLabel: .string(owner)]
                    for (key, value) in (labels.objectValue ?? [:]).pairs { stamped[key] = value }
                    labels = .object(stamped)
                }
                metadata["annotations"] = nil
            }
        }
        let hash = "sha256:" + Crypto.sha256Hex(JSON.object(object).compactBytes)
        object.update("metadata") { metadata in
            metadata.updateObject { $0["annotations"] = [ManagedBy.contentHashAnnotation: .string(hash)] }
        }
        return Manifest(owner: owner, object: object)
    }
}
