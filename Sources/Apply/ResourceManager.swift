import Foundation
import Model
import Support
import Synchronization

/// Who Tenantry is on the server: its field manager and the labels and annotation it stamps.
public struct Owner: Sendable, Hashable {
    public var fieldManager: String
    public var managedByLabel: String
    public var managedByValue: String
    public var contentHashAnnotation: String

    public init(fieldManager: String = "tenantry", managedByLabel: String = ManagedBy.managedByLabel,
                managedByValue: String = ManagedBy.managedByValue, contentHashAnnotation: String = ManagedBy.contentHashAnnotation) {
        self.fieldManager = fieldManager
        self.managedByLabel = managedByLabel
        self.managedByValue = managedByValue
        self.contentHashAnnotation = contentHashAnnotation
    }

    /// `app.kubernetes.io/managed-by=tenantry`: the selector of every list the engine makes.
    public var selector: String { "\(managedByLabel)=\(managedByValue)" }

    /// Whether a live object carries the managed-by label (objects without it are never deleted).
    public func manages(_ object: JSONObject) -> Bool {
        object["metadata"]?["labels"]?[managedByLabel]?.stringValue == managedByValue
    }
}

/// How an apply runs; the reconciler maps its flags onto these.
public struct ApplyOptions: Sendable, Hashable {
    /// Take fields over from other managers (`--force-conflicts`).
    public var force: Bool
    /// Server-side dry run: the server checks everything, nothing is stored.
    public var dryRun: Bool
    /// Objects applied at once within a stage.
    public var concurrency: Int
    /// How long to wait for CustomResourceDefinitions to become Established.
    public var crdTimeout: TimeInterval

    public init(force: Bool = false, dryRun: Bool = false, concurrency: Int = 8, crdTimeout: TimeInterval = 30) {
        self.force = force
        self.dryRun = dryRun
        self.concurrency = concurrency
        self.crdTimeout = crdTimeout
    }

    public static func defaultApplyOptions() -> ApplyOptions { ApplyOptions() }
}

/// A stage of a staged apply, in order.
public enum ApplyStage: String, Sendable, Hashable, CaseIterable {
    /// CustomResourceDefinitions and Namespaces: what everything else needs.
    case definitions
    /// Other cluster-wide objects (ClusterRoles, …).
    case clusterScoped = "cluster-scoped"
    /// Objects that live in a namespace.
    case namespaced

    public static func of(_ object: JSONObject) -> ApplyStage {
        let kind = object["kind"]?.stringValue ?? ""
        if kind == "CustomResourceDefinition" || kind == "Namespace" { return .definitions }
        return object["metadata"]?["namespace"]?.stringValue == nil ? .clusterScoped : .namespaced
    }
}

/// Progress the engine reports while it works (a line per stage; the caller decides how to show it).
public struct StageProgress: Sendable, Hashable {
    public var stage: ApplyStage
    public var changes: ChangeSet
    public var elapsed: Duration
}

/// The apply engine, after Flux's `ssa.ResourceManager`: values in (objects, options), a `ChangeSet`
/// out. It knows nothing of tenants, git or flags.
public final class ResourceManager: Sendable {
    public let client: KubeClient
    public let owner: Owner

    public init(client: KubeClient, owner: Owner = Owner()) {
        self.client = client
        self.owner = owner
    }

    /// One list per kind, of the objects carrying the managed-by label, keyed by reference.
    /// Kinds the server does not serve yet (a CRD not applied) come back empty.
    public func liveObjects(kinds: Set<KindKey>) throws(KubeError) -> [ObjectReference: JSONObject] {
        var index: [ObjectReference: JSONObject] = [:]
        let results = parallelMap(kinds.sorted(), width: 4) { key -> Result<[JSONObject], KubeError> in
            do throws(KubeError) {
                return .success(try self.client.list(apiVersion: key.apiVersion, kind: key.kind, labelSelector: self.owner.selector))
            } catch {
                if case .unknownKind = error { return .success([]) }
                return .failure(error)
            }
        }
        for result in results {
            for object in try result.get() {
                index[Manifest(owner: "", object: object).reference] = object
            }
        }
        return index
    }
}

/// An apiVersion and kind: what one list covers.
public struct KindKey: Sendable, Hashable, Comparable {
    public var apiVersion: String
    public var kind: String

    public init(apiVersion: String, kind: String) {
        self.apiVersion = apiVersion
        self.kind = kind
    }

    public init(_ reference: ObjectReference) { self.init(apiVersion: reference.apiVersion, kind: reference.kind) }

    public static func < (a: KindKey, b: KindKey) -> Bool { (a.apiVersion, a.kind) < (b.apiVersion, b.kind) }
}
