import Model

/// The decisions apply and diff share, so `tenantry diff` shows exactly what `tenantry apply` would do.
extension ResourceManager {
    /// What the live object says before anything is sent.
    enum LiveState: Sendable, Hashable {
        /// Not in the cluster, or its content hash differs from the desired one: the server decides.
        case changed
        /// The content hash matches and no field Tenantry owns has drifted: nothing to send.
        case inSync
        /// The content hash matches but these owned fields were edited in the cluster.
        case drifted([String])
    }

    func liveState(_ object: JSONObject, live: JSONObject?) -> LiveState {
        guard let live else { return .changed }
        let liveHash = live["metadata"]?["annotations"]?[owner.contentHashAnnotation]?.stringValue
        let desiredHash = object["metadata"]?["annotations"]?[owner.contentHashAnnotation]?.stringValue
        guard liveHash != nil, liveHash == desiredHash else { return .changed }
        let drifted = Drift.paths(desired: object, live: live, fieldManager: owner.fieldManager)
        return drifted.isEmpty ? .inSync : .drifted(drifted)
    }

    /// Server-side apply (or its dry run). A conflict only with fields taken over by ordinary writes
    /// (kubectl edit, patch, replace) on an object Tenantry applied before is drift: Tenantry takes its fields
    /// back with force, and `takenBackFrom` names those managers.
    func serverApply(_ object: JSONObject, live: JSONObject?, force: Bool, dryRun: Bool) throws(KubeError)
        -> (object: JSONObject, takenBackFrom: String?) {
        do {
            return (try client.apply(object, force: force, dryRun: dryRun), nil)
        } catch where error.isConflict && live.map({ Self.isHandEdit(error, live: $0, manager: owner.fieldManager) }) == true {
            let applied = try client.apply(object, force: true, dryRun: dryRun)
            return (applied, error.status?.conflictingManagers.joined(separator: ", ") ?? "")
        }
    }
}

extension ResourceManager.Pending {
    /// Why the server could not check an object that this apply makes possible: its namespace or its
    /// CustomResourceDefinition is created by the same apply. Nil when the error is a real failure.
    func createdByThisApply(_ error: KubeError, _ reference: ObjectReference) -> String? {
        if case .unknownKind = error, groups.contains(reference.group) {
            return "its CustomResourceDefinition is created by this apply"
        }
        if error.isNotFound, let namespace = reference.namespace, namespaces.contains(namespace) {
            return "its namespace \(namespace) is created by this apply"
        }
        return nil
    }
}
