import Model

/// Where an object lives: its resource's storage key, namespace ("" when cluster-scoped) and name.
struct ObjectPlace: Hashable, Sendable {
    var resource: String
    var namespace: String
    var name: String
}

/// One entry of `metadata.ownerReferences`.
struct OwnerReference: Hashable, Sendable {
    var apiVersion: String
    var kind: String
    var name: String
    var uid: String
    var controller: Bool
    var blockOwnerDeletion: Bool

    static func all(of object: JSON) -> [OwnerReference] {
        (object.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).compactMap { ref in
            guard let uid = ref["uid"]?.stringValue, let kind = ref["kind"]?.stringValue, let name = ref["name"]?.stringValue else { return nil }
            return OwnerReference(apiVersion: ref["apiVersion"]?.stringValue ?? "", kind: kind, name: name, uid: uid,
                                  controller: ref["controller"] == .bool(true), blockOwnerDeletion: ref["blockOwnerDeletion"] == .bool(true))
        }
    }

    /// The group of `apiVersion` ("" for the core group).
    var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }
}

/// The garbage collector's graph, as kube-controller-manager keeps it: every live object by uid, and
/// for each owner uid the objects that name it. Built from a full list at start and kept current from
/// the change events; touched only on the controller thread.
final class OwnershipIndex {
    private(set) var places: [String: ObjectPlace] = [:]
    private var references: [ObjectPlace: (uid: String, owners: [OwnerReference])] = [:]
    private var dependentsByOwner: [String: Set<ObjectPlace>] = [:]

    func reset() {
        places = [:]
        references = [:]
        dependentsByOwner = [:]
    }

    /// Records an object as it now is (added or modified).
    func update(_ type: ResourceType, _ object: JSON) {
        let place = ObjectPlace(resource: type.storageKey, namespace: object.namespace, name: object.name)
        let uid = object.value(at: ["metadata", "uid"])?.stringValue ?? ""
        unlink(place)
        places[uid] = place
        let owners = OwnerReference.all(of: object)
        references[place] = (uid, owners)
        for owner in owners { dependentsByOwner[owner.uid, default: []].insert(place) }
    }

    /// Forgets an object that left the store.
    func remove(_ type: ResourceType, _ object: JSON) {
        let place = ObjectPlace(resource: type.storageKey, namespace: object.namespace, name: object.name)
        unlink(place)
    }

    private func unlink(_ place: ObjectPlace) {
        guard let known = references.removeValue(forKey: place) else { return }
        if places[known.uid] == place { places[known.uid] = nil }
        for owner in known.owners {
            dependentsByOwner[owner.uid]?.remove(place)
            if dependentsByOwner[owner.uid]?.isEmpty == true { dependentsByOwner[owner.uid] = nil }
        }
    }

    func dependents(of uid: String) -> [ObjectPlace] {
        (dependentsByOwner[uid] ?? []).sorted { ($0.resource, $0.namespace, $0.name) < ($1.resource, $1.namespace, $1.name) }
    }

    func owners(of place: ObjectPlace) -> [OwnerReference] { references[place]?.owners ?? [] }

    func exists(uid: String) -> Bool { places[uid] != nil }
}
