import Model

extension JSON {
    /// The value at a path of object keys, or nil where a key is missing or a value is not an object.
    func value(at path: [String]) -> JSON? {
        var current: JSON? = self
        for key in path { current = current?[key] }
        return current
    }

    /// Sets (or with nil, removes) the value at a path of object keys, creating objects on the way.
    mutating func setValue(_ value: JSON?, at path: [String]) {
        guard let first = path.first else {
            if let value { self = value }
            return
        }
        var object = objectValue ?? JSONObject()
        if path.count == 1 {
            object[first] = value
        } else {
            var child = object[first] ?? .object(JSONObject())
            if child.objectValue == nil {
                if value == nil { return }
                child = .object(JSONObject())
            }
            child.setValue(value, at: Array(path.dropFirst()))
            object[first] = child
        }
        self = .object(object)
    }

    var name: String { value(at: ["metadata", "name"])?.stringValue ?? "" }
    var namespace: String { value(at: ["metadata", "namespace"])?.stringValue ?? "" }
    var labels: [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in value(at: ["metadata", "labels"])?.objectValue?.pairs ?? JSONObject().pairs {
            labels[key] = value.stringValue ?? ""
        }
        return labels
    }
    var finalizers: [String] { value(at: ["metadata", "finalizers"])?.arrayValue?.compactMap(\.stringValue) ?? [] }
    var isDeleting: Bool { value(at: ["metadata", "deletionTimestamp"]) != nil }
    var resourceVersion: String? { value(at: ["metadata", "resourceVersion"])?.stringValue }
}

extension JSONObject {
    /// The object without the given keys.
    func removing(_ names: Set<String>) -> JSONObject {
        JSONObject(pairs.filter { !names.contains($0.0) }.map { ($0.0, $0.1) })
    }
}
