import Foundation
import Model
import Support

/// One column of a Table: its definition and how a row's cell is read from the object.
struct TableColumn {
    var name: String
    var type: String
    var format: String
    var description: String
    var priority: Int
    var cell: (JSON) -> JSON

    init(_ name: String, _ description: String, type: String = "string", format: String = "", priority: Int = 0, cell: @escaping (JSON) -> JSON) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
        self.cell = cell
    }
}

/// The `Table` form kubectl asks for (`Accept: application/json;as=Table;…`), so `kubectl get` prints
/// the same columns as against a real cluster: the built-in kinds' own (BuiltInColumns), a CRD's
/// additionalPrinterColumns, or Name and Age.
struct TableConverter: Sendable {
    let type: ResourceType
    /// The CRD's printer columns for this version; nil for built-in kinds.
    let printerColumns: [JSON]?
    let now: Date

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

    private var columns: [TableColumn] {
        if let printerColumns {
            let custom = printerColumns.compactMap { definition -> TableColumn? in
                guard let name = definition["name"]?.stringValue, let path = definition["jsonPath"]?.stringValue else { return nil }
                let kind = definition["type"]?.stringValue ?? "string"
                return TableColumn(name, definition["description"]?.stringValue ?? "", type: kind, format: definition["format"]?.stringValue ?? "",
                                   priority: definition["priority"].flatMap(intValue) ?? 0) { object in
                    let value = JSONPath.evaluate(path, in: object)
                    if kind == "date", let text = value?.stringValue { return .string(age(since: text)) }
                    return value ?? .null
                }
            }
            // A CRD without printer columns shows its age, as the API server's default column does.
            return [nameColumn] + (custom.isEmpty ? [ageColumn] : custom)
        }
        return builtInColumns(type.plural, group: type.group) ?? [nameColumn, ageColumn]
    }

    var nameColumn: TableColumn {
        TableColumn("Name", "Name of the object", format: "name") { $0.name.isEmpty ? .null : .string($0.name) }
    }

    var ageColumn: TableColumn {
        TableColumn("Age", "Time since creation") { object in
            object.value(at: ["metadata", "creationTimestamp"])?.stringValue.map { .string(age(since: $0)) } ?? .null
        }
    }

    static func keyCount(_ object: JSON, _ fields: [String]) -> Int {
        fields.reduce(0) { $0 + (object[$1]?.objectValue?.count ?? 0) }
    }

    static func date(_ timestamp: String) -> Date? { Timestamp.parse(timestamp) }

    func age(since timestamp: String) -> String {
        guard let created = Self.date(timestamp) else { return "<invalid>" }
        return Self.humanDuration(now.timeIntervalSince(created))
    }

    /// apimachinery's duration.HumanDuration, which kubectl's AGE columns use: 45s, 5m30s, 12m, 2h5m, 3d4h, 2y.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = seconds / 3_600
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = (hours / 24) % 365
            return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d"
        }
        return "\(hours / 24 / 365)y"
    }
}

private func intValue(_ json: JSON) -> Int? { if case .int(let value) = json { return value }; return nil }
