import Foundation
import Model

/// One entry of `metadata.managedFields`: the leaf fields one manager set with one kind of operation.
/// Lists are atomic here: a list is one field, owned and replaced as a whole.
struct ManagedFieldsEntry: Sendable, Hashable {
    var manager: String
    var operation: String
    var apiVersion: String
    var time: String
    /// "status" for writes through the status subresource, "" for the main resource.
    var subresource: String
    var fields: Set<[String]>

    init(manager: String, operation: String, apiVersion: String, time: String, subresource: String, fields: Set<[String]>) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    init?(_ json: JSON) {
        guard let manager = json["manager"]?.stringValue, let operation = json["operation"]?.stringValue else { return nil }
        self.manager = manager
        self.operation = operation
        apiVersion = json["apiVersion"]?.stringValue ?? ""
        time = json["time"]?.stringValue ?? ""
        subresource = json["subresource"]?.stringValue ?? ""
        var fields = Set<[String]>()
        Self.collect(json["fieldsV1"] ?? .object(JSONObject()), prefix: [], into: &fields)
        self.fields = fields
    }

    var json: JSON {
        var object: JSONObject = ["manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
                                  "time": .string(time), "fieldsType": "FieldsV1"]
        var tree = JSON.object(JSONObject())
        for path in fields.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            tree.setValue(.object(JSONObject()), at: path.map { "f:" + $0 })
        }
        object["fieldsV1"] = tree
        if !subresource.isEmpty { object["subresource"] = .string(subresource) }
        return .object(object)
    }

    private static func collect(_ node: JSON, prefix: [String], into fields: inout Set<[String]>) {
        let children = (node.objectValue?.pairs.map { ($0.0, $0.1) } ?? []).filter { $0.0.hasPrefix("f:") }
        if children.isEmpty {
            if !prefix.isEmpty { fields.insert(prefix) }
            return
        }
        for (key, child) in children { collect(child, prefix: prefix + [String(key.dropFirst(2))], into: &fields) }
    }
}

/// Which part of an object a write may change: everything but status, or only status.
enum WriteScope: Sendable, Hashable {
    case main(hasStatusSubresource: Bool)
    case status

    var subresource: String { self == .status ? "status" : "" }

    /// Keys the server owns; managers never own them.
    private static let serverMetadata: Set<String> = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                                      "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]

    /// The fields of `object` a manager can own in this scope, as paths of object keys.
    func leaves(of object: JSON) -> Set<[String]> {
        var leaves = Set<[String]>()
        for (key, value) in object.objectValue?.pairs ?? JSONObject().pairs {
            switch (key, self) {
            case ("apiVersion", _), ("kind", _): continue
            case ("status", .main(true)): continue
            case ("status", .status): Self.collect(value, prefix: [key], into: &leaves)
            case (_, .status): continue
            case ("metadata", _):
                for (metaKey, metaValue) in value.objectValue?.pairs ?? JSONObject().pairs where !Self.serverMetadata.contains(metaKey) {
                    Self.collect(metaValue, prefix: [key, metaKey], into: &leaves)
                }
            default: Self.collect(value, prefix: [key], into: &leaves)
            }
        }
        return leaves
    }

    private static func collect(_ value: JSON, prefix: [String], into leaves: inout Set<[String]>) {
        if let object = value.objectValue, !object.isEmpty {
            for (key, child) in object.pairs { collect(child, prefix: prefix + [key], into: &leaves) }
        } else {
            leaves.insert(prefix)
        }
    }
}

extension JSON {
    var managedFields: [ManagedFieldsEntry] {
        value(at: ["metadata", "managedFields"])?.arrayValue?.compactMap(ManagedFieldsEntry.init) ?? []
    }

    mutating func setManagedFields(_ entries: [ManagedFieldsEntry]) {
        setValue(entries.isEmpty ? nil : .array(entries.map(\.json)), at: ["metadata", "managedFields"])
    }
}

/// `.metadata.labels.app`, as Kubernetes prints field paths in conflicts.
func displayPath(_ path: [String]) -> String { "." + path.joined(separator: ".") }
