import Model

/// `application/strategic-merge-patch+json`, as kubectl edit, label, annotate and client-side apply
/// send it: a merge patch whose lists of the built-in kinds merge by key, with kubectl's `$` directives.
/// The keys are those of the built-in types' patchStrategy tags, by field name.
enum StrategicMergePatch {
    /// Lists of objects merged element by element, matched on this key.
    static let mergeKeys: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name", "env": "name",
        "volumeMounts": "mountPath", "ports": "containerPort", "imagePullSecrets": "name", "secrets": "name",
        "ownerReferences": "uid", "hostAliases": "ip", "tolerations": "key",
    ]
    /// Lists of scalars merged as a union.
    static let unionLists: Set<String> = ["finalizers"]

    static func apply(_ patch: JSON, to target: JSON?) -> JSON {
        guard let patchObject = patch.objectValue else { return patch }
        switch patchObject["$patch"]?.stringValue {
        case "replace": return .object(withoutDirectives(patchObject))
        case "delete": return .null
        default: break
        }
        var result = target?.objectValue ?? JSONObject()
        for (key, value) in patchObject.pairs {
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removed = Set(value.arrayValue ?? [])
                result[field] = result[field]?.arrayValue.map { .array($0.filter { !removed.contains($0) }) }
                continue
            }
            if key.hasPrefix("$") { continue }
            if value == .null {
                result[key] = nil
            } else if let items = value.arrayValue, let existing = result[key]?.arrayValue {
                result[key] = .array(mergeList(key, existing, items))
            } else if value.objectValue != nil {
                let merged = apply(value, to: result[key])
                result[key] = merged == .null ? nil : merged
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }

    private static func mergeList(_ field: String, _ existing: [JSON], _ patch: [JSON]) -> [JSON] {
        if unionLists.contains(field) {
            return existing + patch.filter { !existing.contains($0) }
        }
        guard let key = mergeKeys[field] else { return patch.map { $0.objectValue.map { .object(withoutDirectives($0)) } ?? $0 } }
        var merged = existing
        for element in patch {
            guard let id = element[key] else { merged.append(element); continue }
            let index = merged.firstIndex { $0[key] == id }
            if element["$patch"]?.stringValue == "delete" {
                if let index { merged.remove(at: index) }
            } else if let index {
                merged[index] = apply(element, to: merged[index])
            } else {
                merged.append(apply(element, to: nil))
            }
        }
        return merged
    }

    private static func withoutDirectives(_ object: JSONObject) -> JSONObject {
        JSONObject(object.pairs.filter { !$0.0.hasPrefix("$") }.map { ($0.0, $0.1) })
    }
}
