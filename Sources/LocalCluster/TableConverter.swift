import Foundation
import Model
import Support

/// The `Table` form kubectl asks for (`Accept: application/json;as=Table;…`), so `kubectl get` prints
/// the same columns as against a real cluster: Name, a few per built-in kind, a CRD's
/// additionalPrinterColumns, and Age.
struct TableConverter: Sendable {
    let type: ResourceType
    /// The CRD's printer columns for this version; nil for built-in kinds.
    let printerColumns: [JSON]?
    let now: Date

    private struct Column {
        var name: String
        var type: String
        var format: String
        var description: String
        var priority: Int
        var cell: (JSON) -> JSON
    }

    func table(_ objects: [JSON], metadata: JSONObject) -> JSON {
        let columns = self.columns
        let definitions = columns.map { column -> JSON in
            ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
             "description": .string(column.description), "priority": .int(column.priority)]
        }
        let rows = objects.map { object -> JSON in
            ["cells": .array(columns.map { $0.cell(object) }),
             "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? .object([:])]]
        }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
                "columnDefinitions": .array(definitions), "rows": .array(rows)]
    }

    private var columns: [Column] {
        var columns = [Column(name: "Name", type: "string", format: "name", description: "Name of the object", priority: 0) { $0.name.isEmpty ? .null : .string($0.name) }]
        if let printerColumns {
            columns += printerColumns.compactMap { definition in
                guard let name = definition["name"]?.stringValue, let path = definition["jsonPath"]?.stringValue else { return nil }
                let kind = definition["type"]?.stringValue ?? "string"
                return Column(name: name, type: kind, format: definition["format"]?.stringValue ?? "",
                              description: definition["description"]?.stringValue ?? "", priority: definition["priority"].flatMap(intValue) ?? 0) { object in
                    let value = Self.evaluate(path, in: object)
                    if kind == "date", let text = value?.stringValue { return .string(age(since: text)) }
                    return value ?? .null
                }
            }
            // A CRD without printer columns shows its age, as the API server's default column does.
            return printerColumns.isEmpty ? columns + [ageColumn] : columns
        }
        switch type.plural {
        case "namespaces":
            columns.append(Column(name: "Status", type: "string", format: "", description: "The phase of the namespace", priority: 0) { $0.value(at: ["status", "phase"]) ?? .null })
        case "configmaps":
            columns.append(Column(name: "Data", type: "integer", format: "", description: "Number of keys", priority: 0) { .int(Self.keyCount($0, ["data", "binaryData"])) })
        case "secrets":
            columns.append(Column(name: "Type", type: "string", format: "", description: "The type of the secret", priority: 0) { $0["type"] ?? "Opaque" })
            columns.append(Column(name: "Data", type: "integer", format: "", description: "Number of keys", priority: 0) { .int(Self.keyCount($0, ["data", "stringData"])) })
        default:
            break
        }
        return columns + [ageColumn]
    }

    private var ageColumn: Column {
        Column(name: "Age", type: "string", format: "", description: "Time since creation", priority: 0) { object in
            object.value(at: ["metadata", "creationTimestamp"])?.stringValue.map { .string(age(since: $0)) } ?? .null
        }
    }

    /// A printer column's jsonPath: `.a.b`, `.a[0].b` (the subset CRDs use in practice).
    static func evaluate(_ path: String, in object: JSON) -> JSON? {
        var current: JSON? = object
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indexes: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"), let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty { current = current?[String(name)] }
            for index in indexes {
                guard let items = current?.arrayValue, items.indices.contains(index) else { return nil }
                current = items[index]
            }
        }
        return current
    }

    private static func keyCount(_ object: JSON, _ fields: [String]) -> Int {
        fields.reduce(0) { $0 + (object[$1]?.objectValue?.count ?? 0) }
    }

    /// kubectl's short human durations: 45s, 12m, 5h, 3d, 2y.
    private func age(since timestamp: String) -> String {
        guard let created = Timestamp.parse(timestamp) else { return "<invalid>" }
        let seconds = max(0, Int(now.timeIntervalSince(created)))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<(120 * 60): return "\(seconds / 60)m"
        case ..<(48 * 3_600): return "\(seconds / 3_600)h"
        case ..<(730 * 86_400): return "\(seconds / 86_400)d"
        default: return "\(seconds / (365 * 86_400))y"
        }
    }
}

private func intValue(_ json: JSON) -> Int? { if case .int(let value) = json { return value }; return nil }
