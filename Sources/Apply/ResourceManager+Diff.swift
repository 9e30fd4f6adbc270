import Model
import Support

extension ResourceManager {
    /// What an apply of `objects` and a prune of `stale` would change, object by object, using the
    /// same skip rule as apply (hash and owned fields) and a server-side dry run for the rest.
    public func diff(_ objects: [JSONObject], stale: [ObjectReference] = [], options: ApplyOptions = ApplyOptions()) -> [ObjectDiff] {
        let references = objects.map { Manifest(owner: "", object: $0).reference }
        let live: [ObjectReference: JSONObject]
        do {
            live = try liveObjects(kinds: Set((references + stale).map(KindKey.init)))
        } catch {
            return references.map { ObjectDiff(object: $0, action: .failed, message: "\(error)") }
        }
        // Namespaces and CRDs this apply would create: objects inside them cannot be dry-run yet.
        var pending = Pending()
        for (object, reference) in zip(objects, references) where live[reference] == nil {
            if reference.kind == "Namespace" { pending.namespaces.insert(reference.name) }
            if reference.kind == "CustomResourceDefinition", let group = object["spec"]?["group"]?.stringValue { pending.groups.insert(group) }
        }
        let work = zip(objects, references).map { (object: $0.0, reference: $0.1) }
        var diffs = parallelMap(work, width: max(1, options.concurrency)) { [pending] item in
            self.diff(item.object, reference: item.reference, live: live[item.reference], options: options, pending: pending)
        }
        for reference in stale {
            guard live[reference] != nil else { continue }
            diffs.append(ObjectDiff(object: reference, action: .deleted, message: "no longer in the tenant repo; prune deletes it"))
        }
        return diffs
    }

    func diff(_ object: JSONObject, reference: ObjectReference, live: JSONObject?, options: ApplyOptions, pending: Pending) -> ObjectDiff {
        if liveState(object, live: live) == .inSync { return ObjectDiff(object: reference, action: .unchanged) }
        do {
            let preview = try serverApply(object, live: live, force: options.force, dryRun: true).object
            // The live object may exist without Tenantry's label; the dry run's managedFields tell.
            var existing = live
            if existing == nil, Self.hadOtherManagers(preview, except: owner.fieldManager) { existing = try client.get(reference) }
            let fields = Diffing.fields(live: existing, proposed: preview)
            if existing != nil && fields.isEmpty { return ObjectDiff(object: reference, action: .unchanged) }
            return ObjectDiff(object: reference, action: existing == nil ? .created : .configured, fields: fields)
        } catch {
            if live == nil, let reason = pending.createdByThisApply(error, reference) {
                return ObjectDiff(object: reference, action: .created, fields: Diffing.fields(live: nil, proposed: object), message: reason)
            }
            return ObjectDiff(object: reference, action: .failed, message: "\(error)")
        }
    }
}
