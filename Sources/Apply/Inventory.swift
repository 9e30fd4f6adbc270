import Model

/// The objects applied for one owner (a tenant, or the shared platform objects), as recorded in
/// the cluster so that objects which left git can be pruned.
public struct Inventory: Sendable, Hashable {
    public var owner: String
    public var objects: Set<ObjectReference>

    public init(owner: String, objects: Set<ObjectReference>) {
        self.owner = owner
        self.objects = objects
    }

    /// One line per object, sorted: `apiVersion kind namespace name` (`-` for no namespace).
    var text: String {
        objects.sorted().map { "\($0.apiVersion) \($0.kind) \($0.namespace ?? "-") \($0.name)" }.joined(separator: "\n")
    }

    init(owner: String, text: String) {
        var objects = Set<ObjectReference>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 4 else { continue }
            objects.insert(ObjectReference(apiVersion: parts[0], kind: parts[1], namespace: parts[2] == "-" ? nil : parts[2], name: parts[3]))
        }
        self.init(owner: owner, objects: objects)
    }
}

/// Inventories kept as labelled ConfigMaps (`inventory-<owner>`) in one namespace of the cluster.
public struct InventoryStore: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let owner: Owner

    public static let defaultNamespace = "tenantry-system"
    public static let inventoryLabel = "tenantry.dev/inventory"
    public static let ownerAnnotation = "tenantry.dev/inventory-owner"

    public init(client: KubeClient, namespace: String = InventoryStore.defaultNamespace, owner: Owner = Owner()) {
        self.client = client
        self.namespace = namespace
        self.owner = owner
    }

    static func configMapName(_ owner: String) -> String { "inventory-" + owner }

    /// Every inventory, with one list request.
    public func load() throws(KubeError) -> [String: Inventory] {
        let maps = try client.list(apiVersion: "v1", kind: "ConfigMap", namespace: namespace,
                                   labelSelector: "\(InventoryStore.inventoryLabel)=true,\(owner.selector)")
        var result: [String: Inventory] = [:]
        for map in maps {
            guard let name = map["metadata"]?["annotations"]?[InventoryStore.ownerAnnotation]?.stringValue else { continue }
            result[name] = Inventory(owner: name, text: map["data"]?["objects"]?.stringValue ?? "")
        }
        return result
    }

    /// Records `inventory` (server-side apply; the namespace is created the first time).
    public func save(_ inventory: Inventory) throws(KubeError) {
        let map: JSONObject = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(Self.configMapName(inventory.owner)), "namespace": .string(namespace),
                         "labels": [owner.managedByLabel: .string(owner.managedByValue), InventoryStore.inventoryLabel: "true"],
                         "annotations": [InventoryStore.ownerAnnotation: .string(inventory.owner)]],
            "data": ["objects": .string(inventory.text)],
        ]
        do {
            _ = try client.apply(map)
        } catch where error.isNotFound {
            let namespaceObject: JSONObject = ["apiVersion": "v1", "kind": "Namespace",
                                               "metadata": ["name": .string(namespace), "labels": [owner.managedByLabel: .string(owner.managedByValue)]]]
            _ = try client.apply(namespaceObject)
            _ = try client.apply(map)
        }
    }

    /// Forgets an owner whose objects are all gone.
    public func remove(_ ownerName: String) throws(KubeError) {
        try client.delete(ObjectReference(apiVersion: "v1", kind: "ConfigMap", namespace: namespace, name: Self.configMapName(ownerName)))
    }
}

/// When to refuse a prune, and what to prune.
public struct PrunePolicy: Sendable, Hashable {
    /// Proceed even when a guard trips (`--allow-mass-prune`).
    public var allowMassPrune: Bool
    /// The largest share of the whole inventory one run may delete (0.5: half).
    public var maxShare: Double
    /// Delete Namespaces that left git (`--prune-namespaces`); otherwise they are kept and stay recorded.
    public var pruneNamespaces: Bool

    public init(allowMassPrune: Bool = false, maxShare: Double = 0.5, pruneNamespaces: Bool = false) {
        self.allowMassPrune = allowMassPrune
        self.maxShare = maxShare
        self.pruneNamespaces = pruneNamespaces
    }
}

/// A prune refused by a guard.
public enum PruneGuardError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyRender(owner: String, recorded: Int)
    case share(stale: Int, total: Int, maxShare: Double)

    public var description: String {
        switch self {
        case .emptyRender(let owner, let recorded):
            return "prune refused: \(owner) rendered no objects but \(recorded) are recorded for it in the cluster; if removing them all is intended, re-run with --allow-mass-prune"
        case .share(let stale, let total, let maxShare):
            return "prune refused: it would delete \(stale) of the \(total) recorded objects, more than \(Int(maxShare * 100))%; check the tenant repo, and re-run with --allow-mass-prune if this is intended"
        }
    }
}

/// What to delete for each owner: previous − current, with the guards applied. Pure: no I/O.
public struct PrunePlan: Sendable, Hashable {
    /// Per owner, objects to delete.
    public var stale: [String: [ObjectReference]]
    /// Per owner, Namespaces that left git but are kept (no --prune-namespaces); they stay recorded.
    public var keptNamespaces: [String: [ObjectReference]]
    /// Guards that tripped; when non-empty nothing may be pruned.
    public var refusals: [PruneGuardError]

    /// - Parameters:
    ///   - previous: the recorded inventories.
    ///   - current: the objects rendered now, for every owner that is being applied. Owners absent
    ///     from `current` but present in `previous` rendered nothing (their file was removed).
    ///   - frozen: owners neither applied nor pruned (an invalid tenant): left as they are.
    public static func make(previous: [String: Inventory], current: [String: Set<ObjectReference>], frozen: Set<String>, policy: PrunePolicy) -> PrunePlan {
        var plan = PrunePlan(stale: [:], keptNamespaces: [:], refusals: [])
        var total = 0, staleCount = 0
        // An object another owner renders now has moved, not left: it is never pruned.
        let everywhere = current.values.reduce(into: Set<ObjectReference>()) { $0.formUnion($1) }
        for (owner, inventory) in previous.sorted(by: { $0.key < $1.key }) {
            total += inventory.objects.count
            guard !frozen.contains(owner) else { continue }
            let now = current[owner] ?? []
            if now.isEmpty && !inventory.objects.isEmpty && !policy.allowMassPrune {
                plan.refusals.append(.emptyRender(owner: owner, recorded: inventory.objects.count))
            }
            let gone = inventory.objects.filter { !everywhere.contains($0) }.sorted()
            let namespaces = gone.filter { $0.kind == "Namespace" && $0.apiVersion == "v1" }
            let deletable = policy.pruneNamespaces ? gone : gone.filter { !namespaces.contains($0) }
            if !deletable.isEmpty { plan.stale[owner] = deletable }
            if !policy.pruneNamespaces && !namespaces.isEmpty { plan.keptNamespaces[owner] = namespaces }
            staleCount += deletable.count
        }
        if !policy.allowMassPrune, total > 0, Double(staleCount) / Double(total) > policy.maxShare {
            plan.refusals.append(.share(stale: staleCount, total: total, maxShare: policy.maxShare))
        }
        return plan
    }
}
