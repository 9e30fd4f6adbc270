import Model

/// kube-apiserver's bridge from client-side to server-side apply, for the manager `kubectl` only (as
/// there): fields whose live value still matches the `last-applied-configuration` annotation may be
/// taken without a conflict, and a server-side apply keeps the annotation in step, so a user can move
/// between `kubectl apply` and `kubectl apply --server-side` either way.
enum LastApplied {
    static let annotation = "kubectl.kubernetes.io/last-applied-configuration"
    static let manager = "kubectl"

    /// The fields a `kubectl` server-side apply may take from other managers without a conflict.
    static func takeoverFields(manager: String, live: JSON?, scope: WriteScope) -> Set<[String]> {
        guard manager == Self.manager, let live, let text = live.value(at: ["metadata", "annotations", annotation])?.stringValue,
              let lastApplied = try? JSON(parsing: text) else { return [] }
        return scope.leaves(of: lastApplied).filter { live.value(at: $0) == lastApplied.value(at: $0) }
    }

    /// The merged object with its annotation rewritten to what `kubectl` just applied, when it has one.
    static func updated(_ merged: JSON, applied: JSON, manager: String) -> JSON {
        guard manager == Self.manager, merged.value(at: ["metadata", "annotations", annotation]) != nil else { return merged }
        var configuration = applied
        configuration.setValue(nil, at: ["metadata", "annotations", annotation])
        if configuration.value(at: ["metadata", "annotations"])?.objectValue?.isEmpty == true {
            configuration.setValue(nil, at: ["metadata", "annotations"])
        }
        var result = merged
        // Go encodes the unstructured object with its keys sorted.
        result.setValue(.string(sortedKeys(configuration).compactText), at: ["metadata", "annotations", annotation])
        return result
    }

    private static func sortedKeys(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            var sorted = JSONObject()
            for (key, child) in object.sortedByKey().pairs { sorted[key] = sortedKeys(child) }
            return .object(sorted)
        case .array(let items): return .array(items.map(sortedKeys))
        default: return value
        }
    }
}
