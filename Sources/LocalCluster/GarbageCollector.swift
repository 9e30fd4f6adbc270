import Foundation
import Model

/// The garbage collector by `ownerReferences`, as kube-controller-manager runs it:
/// - Background: the owner goes at once; a dependent whose owners are all gone is then deleted.
/// - Foreground: the owner keeps the `foregroundDeletion` finalizer while its dependents are deleted,
///   and goes once none with `blockOwnerDeletion: true` is left.
/// - Orphan: the `orphan` finalizer holds the owner until the references to it are removed from its
///   dependents, which stay.
/// Owner references carry no namespace: a namespaced dependent's owner is looked up in the dependent's
/// own namespace, so one naming an owner in another namespace has an absent owner (and is collected,
/// with a warning Event `OwnerRefInvalidNamespace`); a cluster-scoped dependent naming a namespaced
/// kind cannot be resolved and is never collected (same warning).
final class GarbageCollector: ClusterController {
    static let orphanFinalizer = "orphan"
    static let foregroundFinalizer = "foregroundDeletion"
    static let name = "garbage-collector"

    let index: OwnershipIndex
    private var warned: Set<String> = []

    init(index: OwnershipIndex) { self.index = index }

    func resync(_ objects: [(ResourceType, JSON)], loop: ControllerLoop) {
        index.reset()
        for (type, object) in objects { index.update(type, object) }
        for (type, object) in objects where needsAttention(object) {
            loop.enqueue(key(type.storageKey, object.namespace, object.name))
        }
    }

    func observe(_ change: ClusterChange, type: ResourceType, loop: ControllerLoop) {
        let object = change.event.object
        if change.event.type == "DELETED" {
            index.remove(type, object)
            let uid = object.value(at: ["metadata", "uid"])?.stringValue ?? ""
            for place in index.dependents(of: uid) { loop.enqueue(key(place.resource, place.namespace, place.name)) }
            // An owner waiting for this dependent may now be free to go.
            for owner in OwnerReference.all(of: object) {
                if let place = index.places[owner.uid] { loop.enqueue(key(place.resource, place.namespace, place.name)) }
            }
            return
        }
        index.update(type, object)
        if needsAttention(object) { loop.enqueue(key(type.storageKey, object.namespace, object.name)) }
    }

    /// An object deleting with one of our finalizers, or one naming an owner that is not (or no longer) here.
    private func needsAttention(_ object: JSON) -> Bool {
        if object.isDeleting, object.finalizers.contains(where: { $0 == Self.orphanFinalizer || $0 == Self.foregroundFinalizer }) { return true }
        // An owner counts only where the dependent may name it: its own namespace, or cluster scope.
        return OwnerReference.all(of: object).contains { owner in
            guard let place = index.places[owner.uid] else { return true }
            return !place.namespace.isEmpty && place.namespace != object.namespace
        }
    }

    private func key(_ resource: String, _ namespace: String, _ name: String) -> ControllerKey {
        ControllerKey(controller: Self.name, resource: resource, namespace: namespace, name: name)
    }

    func reconcile(_ key: ControllerKey, loop: ControllerLoop) {
        guard let type = loop.api.registry.all.first(where: { $0.storageKey == key.resource }) else { return }
        do {
            try loop.write { transaction in
                guard let object = try transaction.get(type, namespace: key.namespace, name: key.name) else { return }
                if object.isDeleting, object.finalizers.contains(Self.orphanFinalizer) {
                    try orphanDependents(of: object, type, transaction, loop)
                } else if object.isDeleting, object.finalizers.contains(Self.foregroundFinalizer) {
                    try deleteDependents(of: object, type, transaction, loop)
                }
                if !OwnerReference.all(of: object).isEmpty, let current = try transaction.get(type, namespace: key.namespace, name: key.name) {
                    try collect(type, current, transaction, loop)
                }
            }
        } catch {
            // Retried on the next change to this object or its owners.
        }
    }

    // MARK: - Owners being deleted

    private func orphanDependents(of owner: JSON, _ ownerType: ResourceType, _ transaction: StoreTransaction, _ loop: ControllerLoop) throws {
        let uid = owner.value(at: ["metadata", "uid"])?.stringValue ?? ""
        for place in index.dependents(of: uid) {
            guard let type = loop.api.registry.all.first(where: { $0.storageKey == place.resource }),
                  let dependent = try transaction.get(type, namespace: place.namespace, name: place.name) else { continue }
            var orphaned = dependent
            let kept = (dependent.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).filter { $0["uid"]?.stringValue != uid }
            orphaned.setValue(kept.isEmpty ? nil : .array(kept), at: ["metadata", "ownerReferences"])
            _ = try loop.api.commit(type, old: dependent, orphaned, transaction)
        }
        try removeFinalizer(Self.orphanFinalizer, from: owner, ownerType, transaction, loop)
    }

    private func deleteDependents(of owner: JSON, _ ownerType: ResourceType, _ transaction: StoreTransaction, _ loop: ControllerLoop) throws {
        let uid = owner.value(at: ["metadata", "uid"])?.stringValue ?? ""
        var blocking = 0
        for dependentPlace in index.dependents(of: uid) {
            guard let type = loop.api.registry.all.first(where: { $0.storageKey == dependentPlace.resource }),
                  let dependent = try transaction.get(type, namespace: dependentPlace.namespace, name: dependentPlace.name) else { continue }
            let reference = OwnerReference.all(of: dependent).first { $0.uid == uid }
            if reference?.blockOwnerDeletion == true { blocking += 1 }
            if !dependent.isDeleting { try collect(type, dependent, transaction, loop) }
        }
        if blocking == 0 { try removeFinalizer(Self.foregroundFinalizer, from: owner, ownerType, transaction, loop) }
    }

    private func removeFinalizer(_ finalizer: String, from owner: JSON, _ type: ResourceType, _ transaction: StoreTransaction, _ loop: ControllerLoop) throws {
        guard let current = try transaction.get(type, namespace: owner.namespace, name: owner.name) else { return }
        var released = current
        released.setValue(.strings(current.finalizers.filter { $0 != finalizer }), at: ["metadata", "finalizers"])
        if released.finalizers.isEmpty { released.setValue(nil, at: ["metadata", "finalizers"]) }
        _ = try loop.api.commit(type, old: current, released, transaction)
    }

    // MARK: - Dependents

    /// What becomes of a dependent given the state of each of its owners (Kubernetes' attemptToDeleteItem).
    enum OwnerState: Equatable {
        /// Present and not being deleted in the foreground.
        case solid
        /// Absent, or present with another uid.
        case dangling
        /// Present, being deleted in the foreground, waiting for its dependents.
        case waitingForDependents
        /// A namespaced kind named by a cluster-scoped dependent, or a kind this cluster does not serve.
        case unresolvable
    }

    enum Decision: Equatable {
        case keep
        /// Solid owners remain: drop the references to absent owners, unblock foreground owners.
        case removeReferences(dangling: [String], unblock: [String])
        case delete(DeleteOptions.Propagation)
    }

    static func decide(_ owners: [(uid: String, state: OwnerState)], hasDependents: Bool) -> Decision {
        if owners.isEmpty || owners.contains(where: { $0.state == .unresolvable }) { return .keep }
        let dangling = owners.filter { $0.state == .dangling }.map(\.uid)
        let waiting = owners.filter { $0.state == .waitingForDependents }.map(\.uid)
        if owners.contains(where: { $0.state == .solid }) {
            return dangling.isEmpty && waiting.isEmpty ? .keep : .removeReferences(dangling: dangling, unblock: waiting)
        }
        return .delete(!waiting.isEmpty && hasDependents ? .foreground : .background)
    }

    private func collect(_ type: ResourceType, _ dependent: JSON, _ transaction: StoreTransaction, _ loop: ControllerLoop) throws {
        guard !dependent.isDeleting else { return }
        var states: [(uid: String, state: OwnerState)] = []
        for owner in OwnerReference.all(of: dependent) {
            states.append((owner.uid, try state(of: owner, dependent: dependent, dependentType: type, transaction, loop)))
        }
        let uid = dependent.value(at: ["metadata", "uid"])?.stringValue ?? ""
        switch Self.decide(states, hasDependents: !index.dependents(of: uid).isEmpty) {
        case .keep: return
        case .removeReferences(let dangling, let unblock):
            var updated = dependent
            let references = (dependent.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).compactMap { reference -> JSON? in
                let referenceUID = reference["uid"]?.stringValue ?? ""
                if dangling.contains(referenceUID) { return nil }
                guard unblock.contains(referenceUID) else { return reference }
                var unblocked = reference
                unblocked.setValue(.bool(false), at: ["blockOwnerDeletion"])
                return unblocked
            }
            updated.setValue(references.isEmpty ? nil : .array(references), at: ["metadata", "ownerReferences"])
            _ = try loop.api.commit(type, old: dependent, updated, transaction)
        case .delete(let propagation):
            _ = try loop.api.deleteObject(type, dependent, now: ControllerLoop.now, options: DeleteOptions(propagation: propagation), transaction)
        }
    }

    private func state(of owner: OwnerReference, dependent: JSON, dependentType: ResourceType, _ transaction: StoreTransaction,
                       _ loop: ControllerLoop) throws -> OwnerState {
        guard let ownerType = loop.api.registry.all.first(where: { $0.group == owner.group && $0.kind == owner.kind }) else { return .unresolvable }
        if ownerType.namespaced, !dependentType.namespaced {
            try warnInvalidNamespace(owner, dependent: dependent, dependentType: dependentType, transaction)
            return .unresolvable
        }
        let found = try transaction.get(ownerType, namespace: ownerType.namespaced ? dependent.namespace : "", name: owner.name)
        guard let found, found.value(at: ["metadata", "uid"])?.stringValue == owner.uid else {
            if ownerType.namespaced, let elsewhere = index.places[owner.uid], elsewhere.namespace != dependent.namespace {
                try warnInvalidNamespace(owner, dependent: dependent, dependentType: dependentType, transaction)
            }
            return .dangling
        }
        if found.isDeleting, found.finalizers.contains(Self.foregroundFinalizer) { return .waitingForDependents }
        return .solid
    }

    /// The warning Event Kubernetes records on a dependent whose owner reference crosses namespaces.
    private func warnInvalidNamespace(_ owner: OwnerReference, dependent: JSON, dependentType: ResourceType, _ transaction: StoreTransaction) throws {
        let dependentUID = dependent.value(at: ["metadata", "uid"])?.stringValue ?? ""
        guard warned.insert(dependentUID + "/" + owner.uid).inserted else { return }
        let message = "ownerRef [\(owner.apiVersion)/\(owner.kind), namespace: \(dependent.namespace), name: \(owner.name), uid: \(owner.uid)] does not exist in namespace \"\(dependent.namespace)\""
        try ClusterEvents.record(transaction, regarding: dependent, type: dependentType, eventType: "Warning", reason: "OwnerRefInvalidNamespace",
                                 message: message, component: "garbage-collector-controller")
    }
}
