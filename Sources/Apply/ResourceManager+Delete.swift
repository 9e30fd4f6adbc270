import Model

extension ResourceManager {
    /// Deletes objects (a prune): namespaced objects first, then cluster-wide ones, CRDs, and
    /// Namespaces last. An object without the managed-by label is never deleted (`skipped`); one
    /// already gone is `skipped` too. Keeps going past failures.
    public func deleteAll(_ references: [ObjectReference], dryRun: Bool = false) -> ChangeSet {
        let ordered = references.sorted { (Self.deleteRank($0), $0) < (Self.deleteRank($1), $1) }
        var changes = ChangeSet()
        for reference in ordered {
            do {
                guard let live = try client.get(reference) else {
                    changes.append(Change(object: reference, action: .skipped, message: "already deleted"))
                    continue
                }
                guard owner.manages(live) else {
                    changes.append(Change(object: reference, action: .skipped,
                                          message: "not deleted: it lacks the \(owner.selector) label, so Tenantry does not own it"))
                    continue
                }
                try client.delete(reference, dryRun: dryRun)
                changes.append(Change(object: reference, action: .deleted))
            } catch {
                changes.append(Change(object: reference, action: .failed, message: "\(error)"))
            }
        }
        return changes
    }

    static func deleteRank(_ reference: ObjectReference) -> Int {
        switch reference.kind {
        case "Namespace": return 3
        case "CustomResourceDefinition": return 2
        default: return reference.namespace == nil ? 1 : 0
        }
    }
}
