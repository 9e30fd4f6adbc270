import Foundation
import Model

/// Records who owns which fields (managedFields) for ordinary writes, and runs server-side apply.
struct FieldManager {
    var manager: String
    var apiVersion: String
    var scope: WriteScope
    var now: String

    /// An ordinary write (create, update, merge patch) by `manager`: the fields it changed become its
    /// own and leave every other manager; fields it removed leave everyone. A write that changes
    /// `metadata.managedFields` itself (kubectl's client-side to server-side apply migration) sets them,
    /// as kube-apiserver lets it.
    func recordUpdate(old: JSON?, new: JSON) -> [ManagedFieldsEntry] {
        let newLeaves = scope.leaves(of: new)
        let changed = newLeaves.filter { old?.value(at: $0) != new.value(at: $0) }
        let sent = new.value(at: ["metadata", "managedFields"])
        var entries = sent != nil && sent != old?.value(at: ["metadata", "managedFields"]) ? new.managedFields : (old?.managedFields ?? new.managedFields)
        for index in entries.indices where entries[index].subresource == scope.subresource {
            entries[index].fields = entries[index].fields.intersection(newLeaves).subtracting(changed)
        }
        if !changed.isEmpty {
            if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Update" && $0.subresource == scope.subresource }) {
                entries[index].fields.formUnion(changed)
                entries[index].time = now
                entries[index].apiVersion = apiVersion
            } else {
                entries.append(ManagedFieldsEntry(manager: manager, operation: "Update", apiVersion: apiVersion, time: now,
                                                  subresource: scope.subresource, fields: changed))
            }
        }
        return entries.filter { !$0.fields.isEmpty }
    }

    /// Server-side apply of `applied` (the manager's whole intent) onto `live` (nil: create).
    /// Returns the merged object with its managedFields, or a 409 listing each conflicting field.
    /// Conflicts on `takeover` fields are taken as if forced (LastApplied: kubectl's migration).
    func apply(_ applied: JSON, onto live: JSON?, force: Bool, takeover: Set<[String]> = [], type: ResourceType) throws(APIError) -> JSON {
        let appliedLeaves = scope.leaves(of: applied)
        var entries = live?.managedFields ?? []
        var conflicts: [(manager: String, apiVersion: String, path: [String])] = []
        for index in entries.indices where entries[index].subresource == scope.subresource && entries[index].manager != manager {
            for path in entries[index].fields.intersection(appliedLeaves).sorted(by: { $0.lexicographicallyPrecedes($1) })
            where live?.value(at: path) != applied.value(at: path) {
                if force || takeover.contains(path) {
                    entries[index].fields.remove(path)
                } else {
                    conflicts.append((entries[index].manager, entries[index].apiVersion, path))
                }
            }
        }
        if !conflicts.isEmpty { throw Self.conflictError(conflicts, type: type, name: applied.name) }

        let ownIndex = entries.firstIndex { $0.manager == manager && $0.operation == "Apply" && $0.subresource == scope.subresource }
        let previouslyApplied = ownIndex.map { entries[$0].fields } ?? []
        let ownedByOthers = entries.filter { $0.manager != manager || $0.operation != "Apply" }.reduce(into: Set<[String]>()) { $0.formUnion($1.fields) }
        var merged = live ?? .object(JSONObject())
        for path in previouslyApplied.subtracting(appliedLeaves).subtracting(ownedByOthers) {
            merged.setValue(nil, at: path)
            // A map the removal emptied goes too (labels: {} is not something anyone applied).
            var parent = Array(path.dropLast())
            while !parent.isEmpty, parent != ["metadata"], merged.value(at: parent)?.objectValue?.isEmpty == true,
                  !ownedByOthers.contains(parent) {
                merged.setValue(nil, at: parent)
                parent.removeLast()
            }
        }
        for path in appliedLeaves.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            merged.setValue(applied.value(at: path), at: path)
        }
        let entry = ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now,
                                       subresource: scope.subresource, fields: appliedLeaves)
        if let ownIndex { entries[ownIndex] = entry } else { entries.append(entry) }
        merged.setManagedFields(entries.filter { !$0.fields.isEmpty })
        return merged
    }

    private static func conflictError(_ conflicts: [(manager: String, apiVersion: String, path: [String])], type: ResourceType, name: String) -> APIError {
        let noun = conflicts.count == 1 ? "conflict" : "conflicts"
        let lines = conflicts.map { "conflict with \"\($0.manager)\" using \($0.apiVersion): \(displayPath($0.path))" }
        let message = "Apply failed with \(conflicts.count) \(noun): " + lines.joined(separator: "\n")
        return APIError(code: 409, reason: "Conflict", message: message, details: APIError.details(type, name: name),
                        causes: conflicts.map { APIError.Cause(reason: "FieldManagerConflict", message: "conflict with \"\($0.manager)\" using \($0.apiVersion)", field: displayPath($0.path)) })
    }
}

/// RFC 7386 JSON merge patch: objects merge key by key, null removes, anything else replaces.
func mergePatched(_ target: JSON?, with patch: JSON) -> JSON {
    guard let patchObject = patch.objectValue else { return patch }
    var result = target?.objectValue ?? JSONObject()
    for (key, value) in patchObject.pairs {
        if value == .null {
            result[key] = nil
        } else {
            result[key] = mergePatched(result[key], with: value)
        }
    }
    return .object(result)
}
