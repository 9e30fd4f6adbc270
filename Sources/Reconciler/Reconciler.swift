import Apply
import Foundation
import GitSync
import Model
import Render

/// What one reconcile should do; the commands map their flags onto it.
public struct ReconcileOptions: Sendable, Hashable {
    public var apply: ApplyOptions
    public var prune: PrunePolicy

    public init(apply: ApplyOptions = ApplyOptions(), prune: PrunePolicy = PrunePolicy()) {
        self.apply = apply
        self.prune = prune
    }
}

/// The outcome of one reconcile: the change set (every object, with the owner it belongs to),
/// the invalid tenants left alone, and what stopped the prune.
public struct ReconcileResult: Sendable {
    public var changes: ChangeSet
    /// Owner (tenant name or `Manifest.platformOwner`) of each object in `changes`.
    public var owners: [ObjectReference: String]
    /// Tenants whose files failed validation: neither applied nor pruned.
    public var invalidTenants: [String]
    public var pruneRefusals: [PruneGuardError]
    /// Problems that are not about one object (the inventory could not be read or written).
    public var errors: [String]
    /// Namespaces that left git but were kept (no --prune-namespaces).
    public var keptNamespaces: [ObjectReference]

    public func changes(of owner: String) -> ChangeSet {
        ChangeSet(changes.changes.filter { owners[$0.object] == owner })
    }

    /// Every owner's changes, grouped in one pass.
    public var changesByOwner: [String: ChangeSet] {
        var grouped: [String: ChangeSet] = [:]
        for change in changes.changes {
            guard let owner = owners[change.object] else { continue }
            grouped[owner, default: ChangeSet()].append(change)
        }
        return grouped
    }

    /// Everything converged: no object failed, no tenant invalid, no refusal, no error.
    public var succeeded: Bool { !changes.hasFailures && invalidTenants.isEmpty && pruneRefusals.isEmpty && errors.isEmpty }
}

/// The objects one owner (a tenant, or `Manifest.platformOwner`) renders.
public struct OwnedObjects: Sendable, Hashable {
    public var owner: String
    public var manifests: [Manifest]

    public init(owner: String, manifests: [Manifest]) {
        self.owner = owner
        self.manifests = manifests
    }
}

/// Render's per-tenant results → staged apply → prune from the inventory → inventory update.
/// The tenant policy (who is valid, what is frozen) lives here; the engine sees objects only.
public struct Reconciler: Sendable {
    public let manager: ResourceManager
    public let inventory: InventoryStore

    public init(manager: ResourceManager, inventory: InventoryStore) {
        self.manager = manager
        self.inventory = inventory
    }

    public init(client: KubeClient, inventoryNamespace: String = InventoryStore.defaultNamespace) {
        let manager = ResourceManager(client: client)
        self.init(manager: manager, inventory: InventoryStore(client: client, namespace: inventoryNamespace, owner: manager.owner))
    }

    /// The objects each owner renders now: the platform's shared objects and each valid tenant's.
    public static func desired(_ rendered: RenderedRepo) -> [OwnedObjects] {
        [OwnedObjects(owner: Manifest.platformOwner, manifests: rendered.platformManifests)]
            + rendered.tenants.filter(\.isValid).map { OwnedObjects(owner: $0.name, manifests: $0.manifests) }
    }

    public func reconcile(_ rendered: RenderedRepo, options: ReconcileOptions = ReconcileOptions(),
                          progress: (@Sendable (String) -> Void)? = nil, onChange: (@Sendable (Change) -> Void)? = nil) -> ReconcileResult {
        reconcile(Self.desired(rendered), frozen: rendered.invalidTenants.map(\.name), options: options, progress: progress, onChange: onChange)
    }

    /// Applies `desired` (owner by owner), prunes what each owner's inventory holds beyond it, and
    /// records the new inventories. Owners in `frozen` (invalid tenants) are neither applied nor pruned.
    public func reconcile(_ desired: [OwnedObjects], frozen frozenOwners: [String], options: ReconcileOptions = ReconcileOptions(),
                          progress: (@Sendable (String) -> Void)? = nil, onChange: (@Sendable (Change) -> Void)? = nil) -> ReconcileResult {
        var owners: [ObjectReference: String] = [:]
        var current: [String: Set<ObjectReference>] = [:]
        for entry in desired {
            current[entry.owner] = Set(entry.manifests.map(\.reference))
            for manifest in entry.manifests { owners[manifest.reference] = entry.owner }
        }
        let frozen = Set(frozenOwners)
        var result = ReconcileResult(changes: ChangeSet(), owners: owners, invalidTenants: frozenOwners.sorted(),
                                     pruneRefusals: [], errors: [], keptNamespaces: [])

        let previous: [String: Inventory]
        do {
            previous = try inventory.load()
        } catch {
            result.errors.append("inventory load failed: \(error); nothing was applied or pruned")
            return result
        }
        let plan = PrunePlan.make(previous: previous, current: current, frozen: frozen, policy: options.prune)
        result.pruneRefusals = plan.refusals
        result.keptNamespaces = plan.keptNamespaces.values.flatMap { $0 }.sorted()

        // Apply, staged, all owners together.
        let objects = desired.flatMap { $0.manifests.map(\.object) }
        result.changes = manager.applyAllStaged(objects, options: options.apply, progress: { stage in
            progress?("apply \(stage.stage.rawValue): \(stage.changes.changes.count) objects (\(stage.changes.summary)) in \(Self.seconds(stage.elapsed))")
        }, onChange: onChange)

        // Prune what left git, for owners whose apply went through, when no guard tripped: one
        // deleteAll over all owners, so Namespaces go last of all.
        var pruned = ChangeSet()
        if plan.refusals.isEmpty {
            var stale: [ObjectReference] = []
            let applied = result.changesByOwner
            for (owner, references) in plan.stale.sorted(by: { $0.key < $1.key }) {
                let failures = applied[owner]?.failures.count ?? 0
                if failures > 0 {
                    progress?("prune \(owner): skipped, \(failures) of its objects failed to apply")
                    continue
                }
                for reference in references { result.owners[reference] = owner }
                stale += references
            }
            if !stale.isEmpty {
                pruned = manager.deleteAll(stale, dryRun: options.apply.dryRun)
                progress?("prune: \(pruned.changes.count) objects (\(pruned.summary))")
            }
        }
        result.changes.append(contentsOf: pruned)

        // Record what each owner has now; nothing is written when nothing changed.
        guard !options.apply.dryRun else { return result }
        let gone = Set(pruned.changes.filter { $0.action == .deleted || $0.action == .skipped }.map(\.object))
        let everywhere = current.values.reduce(into: Set<ObjectReference>()) { $0.formUnion($1) }
        for owner in Set(previous.keys).union(current.keys).sorted() where !frozen.contains(owner) {
            let before = previous[owner]?.objects ?? []
            let mine = current[owner] ?? []
            // Keep what could not be pruned yet; drop what was pruned or moved to another owner.
            let now = mine.union(before.filter { !gone.contains($0) && !everywhere.contains($0) })
            guard now != before else { continue }
            do {
                if now.isEmpty {
                    try inventory.remove(owner)
                } else {
                    try inventory.save(Inventory(owner: owner, objects: now))
                }
            } catch {
                result.errors.append("inventory of \(owner) save failed: \(error); the next reconcile records it")
            }
        }
        return result
    }

    /// What `reconcile` would change, as per-object diffs (prunes included), without writing.
    public func diff(_ rendered: RenderedRepo, options: ReconcileOptions = ReconcileOptions()) throws(KubeError) -> (diffs: [ObjectDiff], refusals: [PruneGuardError]) {
        try diff(Self.desired(rendered), frozen: rendered.invalidTenants.map(\.name), options: options)
    }

    public func diff(_ desired: [OwnedObjects], frozen: [String], options: ReconcileOptions = ReconcileOptions()) throws(KubeError) -> (diffs: [ObjectDiff], refusals: [PruneGuardError]) {
        var current: [String: Set<ObjectReference>] = [:]
        for entry in desired { current[entry.owner] = Set(entry.manifests.map(\.reference)) }
        let previous = try inventory.load()
        let plan = PrunePlan.make(previous: previous, current: current, frozen: Set(frozen), policy: options.prune)
        let stale = plan.refusals.isEmpty ? plan.stale.values.flatMap { $0 } : []
        return (manager.diff(desired.flatMap { $0.manifests.map(\.object) }, stale: stale, options: options.apply), plan.refusals)
    }

    /// The status report for GitSync to commit: per tenant, what was applied, pruned and failed,
    /// and the validation errors of invalid tenants.
    /// `sessions`: each tenant's Sessions by phase, as the session controller counts them (`sessionCounts`).
    public static func statusReport(revision: String, time: Date, rendered: RenderedRepo, result: ReconcileResult,
                                    sessions: [String: SessionCounts] = [:]) -> StatusReport {
        let byOwner = result.changesByOwner
        let tenants = rendered.tenants.map { tenant -> TenantStatus in
            let changes = byOwner[tenant.name] ?? ChangeSet()
            let issues = tenant.diagnostics.filter { $0.severity == .error }.map {
                ValidationIssue(file: $0.file, line: $0.mark?.line ?? 0, column: $0.mark?.column,
                                field: $0.field.isEmpty ? nil : $0.field, message: $0.message)
            }
            return TenantStatus(
                name: tenant.name, ready: tenant.isValid && !changes.hasFailures, objects: tenant.manifests.count,
                applied: changes.changes.filter { $0.action == .created || $0.action == .configured }.map(\.object.description),
                pruned: changes.changes.filter { $0.action == .deleted }.map(\.object.description),
                failed: changes.failures.map { ObjectFailure(object: $0.object.description, message: $0.message) },
                errors: issues, sessions: sessions[tenant.name] ?? SessionCounts())
        }
        return StatusReport(revision: revision, time: time, tenants: tenants)
    }

    /// Each tenant's Sessions by phase: the sum over its namespaces of what the session controller keeps in
    /// `NamespacePolicy.status.sessions`. A cluster without them (no controller yet) counts zero.
    public static func sessionCounts(client: KubeClient, rendered: RenderedRepo) -> [String: SessionCounts] {
        var tenantOf: [String: String] = [:]
        for tenant in rendered.tenants {
            for manifest in tenant.manifests where manifest.reference.kind == NamespacePolicy.kind {
                if let namespace = manifest.reference.namespace { tenantOf[namespace] = tenant.name }
            }
        }
        guard let policies = try? client.list(apiVersion: NamespacePolicy.apiVersion, kind: NamespacePolicy.kind) else { return [:] }
        var counts: [String: SessionCounts] = [:]
        for policy in policies {
            guard let namespace = policy["metadata"]?["namespace"]?.stringValue, let tenant = tenantOf[namespace],
                  let sessions = policy["status"]?["sessions"] else { continue }
            func count(_ key: String) -> Int { sessions[key]?.intValue ?? 0 }
            var total = counts[tenant] ?? SessionCounts()
            total.pending += count("pending")
            total.running += count("running")
            total.completed += count("completed")
            total.failed += count("failed")
            total.stopped += count("stopped")
            counts[tenant] = total
        }
        return counts
    }

    public static func seconds(_ duration: Duration) -> String {
        let (s, attos) = duration.components
        return String(format: "%.2fs", Double(s) + Double(attos) / 1e18)
    }
}
