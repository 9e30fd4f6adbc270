import Foundation
import Model

/// Checks a custom resource against its CRD's structural OpenAPI v3 schema and prunes fields the
/// schema does not declare (unless `x-kubernetes-preserve-unknown-fields`), as the API server does.
struct SchemaValidator {
    var causes: [APIError.Cause] = []
    /// Paths of fields the schema does not know; pruned, and refused with fieldValidation=Strict.
    var unknownFields: [String] = []

    /// Validates and prunes `object` against `schema`. `apiVersion`, `kind` and `metadata` are the
    /// server's to check, so they are kept whatever the schema says.
    mutating func validate(_ object: JSON, schema: JSON) -> JSON {
        guard var pruned = check(object, schema, path: "")?.objectValue, let original = object.objectValue else { return object }
        for key in ["apiVersion", "kind", "metadata"] where original[key] != nil && pruned[key] == nil {
            pruned[key] = original[key]
        }
        var ordered = JSONObject()
        for key in original.keys where pruned[key] != nil { ordered[key] = pruned[key] }
        return .object(ordered)
    }

    private mutating func check(_ value: JSON, _ schema: JSON, path: String) -> JSON? {
        if value == .null {
            if schema["nullable"] == .bool(true) { return value }
            if schema["type"] != nil { fail(path, "FieldValueRequired", "Required value") }
            return value
        }
        if schema["x-kubernetes-int-or-string"] == .bool(true) {
            switch value {
            case .int, .string: return value
            default: mismatch(value, path, "integer or string"); return value
            }
        }
        switch schema["type"]?.stringValue {
        case "object": return checkObject(value, schema, path: path)
        case "array":
            guard let items = value.arrayValue else { mismatch(value, path, "array"); return value }
            if let min = schema["minItems"].flatMap(intValue), items.count < min { fail(path, "FieldValueInvalid", "Invalid value: \(items.count): \(label(path)) in body should have at least \(min) items") }
            if let max = schema["maxItems"].flatMap(intValue), items.count > max { fail(path, "FieldValueTooMany", "Too many: \(items.count): must have at most \(max) items") }
            if schema["x-kubernetes-list-type"] == "set" {
                var seen = Set<JSON>()
                for (index, item) in items.enumerated() where !seen.insert(item).inserted {
                    fail("\(path)[\(index)]", "FieldValueDuplicate", "Duplicate value: \(item.compactText)")
                }
            }
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.enumerated().map { check($0.element, itemSchema, path: "\(path)[\($0.offset)]") ?? $0.element })
        case "string":
            guard let text = value.stringValue else { mismatch(value, path, "string"); return value }
            if let min = schema["minLength"].flatMap(intValue), text.count < min { fail(path, "FieldValueInvalid", "Invalid value: \"\(text)\": \(label(path)) in body should be at least \(min) chars long") }
            if let max = schema["maxLength"].flatMap(intValue), text.count > max { fail(path, "FieldValueTooLong", "Too long: may not be more than \(max) bytes") }
            if let pattern = schema["pattern"]?.stringValue, let regex = try? NSRegularExpression(pattern: pattern),
               regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                fail(path, "FieldValueInvalid", "Invalid value: \"\(text)\": \(label(path)) in body should match '\(pattern)'")
            }
            checkEnum(value, schema, path: path)
        case "integer":
            guard case .int(let number) = value else { mismatch(value, path, "integer"); return value }
            checkRange(Double(number), value, schema, path: path)
            checkEnum(value, schema, path: path)
        case "number":
            let number: Double
            switch value {
            case .int(let integer): number = Double(integer)
            case .number(let text): number = Double(text) ?? 0
            default: mismatch(value, path, "number"); return value
            }
            checkRange(number, value, schema, path: path)
        case "boolean":
            guard case .bool = value else { mismatch(value, path, "boolean"); return value }
        default:
            break
        }
        return value
    }

    private mutating func checkObject(_ value: JSON, _ schema: JSON, path: String) -> JSON {
        guard let object = value.objectValue else { mismatch(value, path, "object"); return value }
        for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[required] == nil {
            fail(join(path, required), "FieldValueRequired", "Required value")
        }
        let properties = schema["properties"]?.objectValue
        let additional = schema["additionalProperties"]
        let preserve = schema["x-kubernetes-preserve-unknown-fields"] == .bool(true)
        var result = JSONObject()
        for (key, child) in object.pairs {
            if path.isEmpty, ["apiVersion", "kind", "metadata"].contains(key) {
                result[key] = child
            } else if let propertySchema = properties?[key] {
                result[key] = check(child, propertySchema, path: join(path, key))
            } else if let additional, additional.objectValue != nil {
                result[key] = check(child, additional, path: join(path, key))
            } else if preserve || additional == .bool(true) || (properties == nil && additional == nil && schema["type"] == nil) {
                result[key] = child
            } else {
                unknownFields.append(join(path, key))
            }
        }
        return .object(result)
    }

    private mutating func checkRange(_ number: Double, _ value: JSON, _ schema: JSON, path: String) {
        if let minimum = schema["minimum"].flatMap(doubleValue), number < minimum {
            fail(path, "FieldValueInvalid", "Invalid value: \(value.compactText): \(label(path)) in body should be greater than or equal to \(schema["minimum"]!.compactText)")
        }
        if let maximum = schema["maximum"].flatMap(doubleValue), number > maximum {
            fail(path, "FieldValueInvalid", "Invalid value: \(value.compactText): \(label(path)) in body should be less than or equal to \(schema["maximum"]!.compactText)")
        }
    }

    private mutating func checkEnum(_ value: JSON, _ schema: JSON, path: String) {
        guard let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) else { return }
        let list = allowed.map(\.compactText).joined(separator: ", ")
        fail(path, "FieldValueNotSupported", "Unsupported value: \(value.compactText): supported values: \(list)")
    }

    private mutating func mismatch(_ value: JSON, _ path: String, _ expected: String) {
        fail(path, "FieldValueTypeInvalid", "Invalid value: \"\(typeName(value))\": \(label(path)) in body must be of type \(expected): \(value.compactText)")
    }

    private mutating func fail(_ path: String, _ reason: String, _ message: String) {
        causes.append(APIError.Cause(reason: reason, message: message, field: path.isEmpty ? "<root>" : path))
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    private func label(_ path: String) -> String { path.isEmpty ? "body" : path }

    private func typeName(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

private func intValue(_ json: JSON) -> Int? { if case .int(let value) = json { return value }; return nil }

private func doubleValue(_ json: JSON) -> Double? {
    switch json {
    case .int(let value): return Double(value)
    case .number(let text): return Double(text)
    default: return nil
    }
}
