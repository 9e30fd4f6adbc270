import Foundation
import Model
import Support

extension ResourceManager {
    /// Applies `objects` in stages: CRDs and Namespaces, a wait until the CRDs are Established,
    /// cluster-wide objects, then namespaced ones, `options.concurrency` at a time within a stage.
    ///
    /// Before each stage the live objects are read with one list per kind; an object whose
    /// content-hash annotation matches and whose owned fields have not drifted is `unchanged` and
    /// costs no request. Failures are recorded per object and the rest carry on; the returned
    /// `ChangeSet` always covers every object (failed ones with the error as message).
    public func applyAllStaged(_ objects: [JSONObject], options: ApplyOptions = ApplyOptions(),
                               progress: (@Sendable (StageProgress) -> Void)? = nil,
                               onChange: (@Sendable (Change) -> Void)? = nil) -> ChangeSet {
        var result = ChangeSet()
        let clock = ContinuousClock()
        var pending = Pending()
        for stage in ApplyStage.allCases {
            let members = objects.filter { ApplyStage.of($0) == stage }
            if members.isEmpty { continue }
            let started = clock.now
            let changes = applyAll(members, options: options, pending: pending, onChange: onChange)
            result.append(contentsOf: changes)
            if stage == .definitions {
                let crds = zip(members, changes.changes).filter { $0.0["kind"]?.stringValue == "CustomResourceDefinition" }
                let changed = crds.filter { [.created, .configured].contains($0.1.action) }
                if !changed.isEmpty { client.invalidateDiscovery() }
                if options.dryRun {
                    // Nothing was stored: later stages may name namespaces and kinds that do not exist yet.
                    for (object, change) in zip(members, changes.changes) where change.action == .created {
                        if object["kind"]?.stringValue == "Namespace" { pending.namespaces.insert(change.object.name) }
                        if let group = object["spec"]?["group"]?.stringValue { pending.groups.insert(group) }
                    }
                } else {
                    let waited = waitForEstablished(changed.map { Manifest(owner: "", object: $0.0).reference }, timeout: options.crdTimeout)
                    result.append(contentsOf: waited)
                }
            }
            progress?(StageProgress(stage: stage, changes: changes, elapsed: clock.now - started))
        }
        // CRDs that never became Established show up twice (applied, then failed): the later entry wins.
        var seen = Set<ObjectReference>()
        var deduplicated: [Change] = []
        for change in result.changes.reversed() where seen.insert(change.object).inserted { deduplicated.append(change) }
        let order = Dictionary(objects.enumerated().map { (Manifest(owner: "", object: $0.element).reference, $0.offset) }, uniquingKeysWith: { a, _ in a })
        return ChangeSet(deduplicated.sorted { (order[$0.object] ?? 0) < (order[$1.object] ?? 0) })
    }

    /// Applies one stage's objects: one list per kind, then only what is new, changed or drifted.
    public func applyAll(_ objects: [JSONObject], options: ApplyOptions = ApplyOptions()) -> ChangeSet {
        applyAll(objects, options: options, pending: Pending())
    }

    /// What an earlier stage of a dry run would have created.
    struct Pending: Sendable {
        var namespaces: Set<String> = []
        var groups: Set<String> = []
    }

    func applyAll(_ objects: [JSONObject], options: ApplyOptions, pending: Pending, onChange: (@Sendable (Change) -> Void)? = nil) -> ChangeSet {
        let references = objects.map { Manifest(owner: "", object: $0).reference }
        let live: [ObjectReference: JSONObject]
        do {
            live = try liveObjects(kinds: Set(references.map(KindKey.init)))
        } catch {
            return ChangeSet(references.map { Change(object: $0, action: .failed, message: "\(error)") })
        }
        let work = zip(objects, references).map { (object: $0.0, reference: $0.1) }
        let changes = parallelMap(work, width: max(1, options.concurrency)) { item in
            let change = self.apply(item.object, reference: item.reference, live: live[item.reference], options: options, pending: pending)
            onChange?(change)
            return change
        }
        return ChangeSet(changes)
    }

    /// Decides and applies one object.
    func apply(_ object: JSONObject, reference: ObjectReference, live: JSONObject?, options: ApplyOptions, pending: Pending = Pending()) -> Change {
        var message = ""
        switch liveState(object, live: live) {
        case .inSync:
            return Change(object: reference, action: .unchanged)
        case .drifted(let drifted):
            message = "drift corrected: " + drifted.prefix(5).joined(separator: ", ") + (drifted.count > 5 ? ", …" : "")
            // A server that normalises values (quantities, defaults) is not drift: ask it.
            if let live, let preview = try? client.apply(object, force: options.force, dryRun: true), Diffing.sameContent(live, preview) {
                return Change(object: reference, action: .unchanged)
            }
        case .changed:
            break
        }
        do {
            let (applied, takenBackFrom) = try serverApply(object, live: live, force: options.force, dryRun: options.dryRun)
            if let managers = takenBackFrom {
                message = (message.isEmpty ? "drift corrected" : message) + "; fields taken back from \(managers)"
            }
            let existed = live != nil || Self.hadOtherManagers(applied, except: owner.fieldManager)
            return Change(object: reference, action: existed ? .configured : .created, message: message)
        } catch {
            if options.dryRun, let reason = pending.createdByThisApply(error, reference) {
                return Change(object: reference, action: .created, message: "not checked by the server: " + reason)
            }
            return Change(object: reference, action: .failed, message: "\(error)")
        }
    }

    /// A conflict only with managers that wrote by update (never by apply), on an object Tenantry
    /// applied before: a hand edit, not another declarative owner.
    static func isHandEdit(_ error: KubeError, live: JSONObject, manager: String) -> Bool {
        let entries = live["metadata"]?["managedFields"]?.arrayValue ?? []
        guard entries.contains(where: { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == "Apply" }) else { return false }
        let conflicting = error.status?.conflictingManagers ?? []
        guard !conflicting.isEmpty else { return false }
        return conflicting.allSatisfy { name in
            !entries.contains { $0["manager"]?.stringValue == name && $0["operation"]?.stringValue == "Apply" }
        }
    }

    /// An object that others had written before Tenantry applied it existed already (it was
    /// configured, not created), even though it lacked Tenantry's label.
    static func hadOtherManagers(_ object: JSONObject, except manager: String) -> Bool {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).contains { $0["manager"]?.stringValue != manager }
    }

    /// Polls each CRD until its Established condition is True; those that time out are failed.
    func waitForEstablished(_ crds: [ObjectReference], timeout: TimeInterval) -> ChangeSet {
        var failed = ChangeSet()
        let deadline = Date().addingTimeInterval(timeout)
        for crd in crds {
            var delay = 0.05
            while true {
                let live = try? client.get(crd)
                let established = (live?["status"]?["conditions"]?.arrayValue ?? []).contains {
                    $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True"
                }
                if established { break }
                if Date() > deadline {
                    failed.append(Change(object: crd, action: .failed,
                                         message: "\(crd) wait failed: not Established after \(Int(timeout)) s; check `kubectl describe crd \(crd.name)`"))
                    break
                }
                Thread.sleep(forTimeInterval: delay)
                delay = min(1, delay * 2)
            }
        }
        return failed
    }
}
