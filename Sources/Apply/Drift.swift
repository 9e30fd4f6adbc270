import Foundation
import Model

/// Drift: the live fields Tenantry sends (and owns) no longer say what Tenantry would send.
/// Only the fields present in the desired object are compared, so defaults and fields other
/// managers own never count as drift.
enum Drift {
    /// Paths (`.spec.hard.cpu`, `.subjects[0].name`) whose live value differs from the desired one,
    /// or that another manager took over.
    static func paths(desired sent: JSONObject, live: JSONObject, fieldManager: String) -> [String] {
        let desired = secretAsStored(sent)
        var differing: [String] = []
        compare(.object(desired), live: .object(live), path: "", into: &differing)
        if let owned = ownedFields(live, manager: fieldManager) {
            var missing: [String] = []
            unowned(.object(desired), tree: owned, path: "", into: &missing)
            if desired != sent {
                // Servers record a Secret's stringData under either name: owned in one form is owned.
                var asSent: [String] = []
                unowned(.object(sent), tree: owned, path: "", into: &asSent)
                let sentForm = Set(asSent.map { $0.replacingOccurrences(of: ".stringData.", with: ".data.") })
                missing = missing.filter { sentForm.contains($0) }
            }
            for path in missing where !differing.contains(path) { differing.append(path + " (owned by another manager)") }
        }
        return differing
    }

    /// A Secret's `stringData` is stored by the server as base64 `data`: compare it that way.
    static func secretAsStored(_ object: JSONObject) -> JSONObject {
        guard object["kind"]?.stringValue == "Secret", let strings = object["stringData"]?.objectValue else { return object }
        var object = object
        var data = object["data"]?.objectValue ?? [:]
        for (key, value) in strings.pairs {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        object["data"] = .object(data)
        object["stringData"] = nil
        return object
    }

    private static func compare(_ desired: JSON, live: JSON?, path: String, into differing: inout [String]) {
        switch desired {
        case .object(let object):
            guard case .object(let liveObject)? = live else { differing.append(path.isEmpty ? "." : path); return }
            for (key, value) in object.pairs {
                if path.isEmpty && (key == "status") { continue }
                compare(value, live: liveObject[key], path: path + "." + key, into: &differing)
            }
        case .array(let items):
            guard case .array(let liveItems)? = live, liveItems.count == items.count else { differing.append(path); return }
            for (index, item) in items.enumerated() {
                compare(item, live: liveItems[index], path: "\(path)[\(index)]", into: &differing)
            }
        default:
            if !sameScalar(desired, live) { differing.append(path) }
        }
    }

    /// Ints and the same number written as text compare equal (`1` and `"1"` do not).
    private static func sameScalar(_ a: JSON, _ b: JSON?) -> Bool {
        guard let b else { return a == .null }
        if a == b { return true }
        switch (a, b) {
        case (.int(let x), .number(let y)), (.number(let y), .int(let x)): return Double(y) == Double(x)
        default: return false
        }
    }

    /// The `fieldsV1` tree of `manager`'s Apply entry, nil when the object has no managedFields
    /// (a server that does not track them: nothing to compare).
    static func ownedFields(_ live: JSONObject, manager: String) -> JSON? {
        guard let entries = live["metadata"]?["managedFields"]?.arrayValue, !entries.isEmpty else { return nil }
        let mine = entries.filter { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == "Apply" && ($0["subresource"]?.stringValue ?? "").isEmpty }
        var merged = JSONObject()
        for entry in mine {
            for (key, value) in (entry["fieldsV1"]?.objectValue ?? [:]).pairs { merged[key] = merge(merged[key], value) }
        }
        return .object(merged)
    }

    private static func merge(_ a: JSON?, _ b: JSON) -> JSON {
        guard case .object(var left)? = a, case .object(let right) = b else { return b }
        for (key, value) in right.pairs { left[key] = merge(left[key], value) }
        return .object(left)
    }

    /// Desired leaves (scalars and whole lists) with no `f:` node in the owned tree.
    private static func unowned(_ desired: JSON, tree: JSON?, path: String, into missing: inout [String]) {
        guard let tree else { missing.append(path); return }
        guard case .object(let object) = desired, !object.isEmpty else { return }
        for (key, value) in object.pairs {
            if path.isEmpty && (key == "apiVersion" || key == "kind" || key == "status") { continue }
            if path == ".metadata" && (key == "name" || key == "namespace") { continue }
            unowned(value, tree: tree["f:" + key], path: path + "." + key, into: &missing)
        }
    }
}
