import Foundation
import Synchronization
import Model

/// Checks an object against a structural OpenAPI v3 schema and prunes fields the schema does not
/// declare (unless `x-kubernetes-preserve-unknown-fields`), as the API server does: a custom resource
/// against its CRD's schema, a built-in kind against the official Kubernetes schema (`BuiltInSchema`).
struct SchemaValidator {
    var causes: [APIError.Cause] = []
    /// Paths of fields the schema does not know; pruned, and refused with fieldValidation=Strict.
    var unknownFields: [String] = []
    /// Built-in kinds only: what Go's JSON decoder would refuse (a number where a string belongs), in
    /// its words; kube-apiserver answers the first with 400 before validating anything.
    var decodeErrors: [String] = []
    /// The definitions `$ref`s name; set for built-in kinds, whose schemas are decoded as Go types are:
    /// null is every type's zero value and metadata is checked like any field.
    private let definitions: JSONObject?

    init(definitions: JSONObject? = nil) { self.definitions = definitions }

    private var builtIn: Bool { definitions != nil }

    /// Where a value sits as Go's decoder names it: the innermost struct and the path without indexes or map keys.
    private struct GoField {
        var structName = ""
        var path = ""
        /// Set by a `$ref`: the definition the value decodes into (its fields' errors name its struct).
        var referenced: String? = nil
        private var referencedStruct: String? { referenced.map { String($0.split(separator: ".").last ?? "") } }
        func child(_ key: String) -> GoField {
            GoField(structName: referencedStruct ?? structName, path: path.isEmpty ? key : "\(path).\(key)")
        }
        /// An element of a list or a map value: the same Go field.
        var element: GoField { GoField(structName: structName, path: path) }
    }

    /// Validates and prunes `object` against `schema`. For custom resources `apiVersion`, `kind` and
    /// `metadata` are the server's to check, so they are kept whatever the schema says.
    mutating func validate(_ object: JSON, schema: JSON) -> JSON {
        guard var pruned = check(object, schema, path: "", go: GoField())?.objectValue, let original = object.objectValue else { return object }
        for key in ["apiVersion", "kind", "metadata"] where original[key] != nil && pruned[key] == nil {
            pruned[key] = original[key]
        }
        var ordered = JSONObject()
        for key in original.keys where pruned[key] != nil { ordered[key] = pruned[key] }
        for (key, value) in pruned.pairs where ordered[key] == nil { ordered[key] = value }  // defaults
        return .object(ordered)
    }

    private mutating func check(_ value: JSON, _ schema: JSON, path: String, go: GoField) -> JSON? {
        if let reference = schema["$ref"]?.stringValue, let definitions {
            guard let resolved = definitions[reference] else { return value }
            var inner = go
            inner.referenced = reference
            return check(value, resolved, path: path, go: inner)
        }
        if value == .null, builtIn { return value }
        if let types = schema["x-types"]?.arrayValue?.compactMap(\.stringValue) {
            // resource.Quantity: a string or a number.
            if !types.contains(where: { accepts($0, value) }) { mismatch(value, path, types.joined(separator: " or "), go: go, goType: goType(schema)) }
            return value
        }
        if value == .null {
            if schema["nullable"] == .bool(true) { return value }
            if schema["type"] != nil { fail(path, "FieldValueRequired", "Required value") }
            return value
        }
        if schema["x-kubernetes-int-or-string"] == .bool(true) {
            switch value {
            case .int, .string: return value
            default: mismatch(value, path, "integer or string", go: go, goType: "intstr.IntOrString"); return value
            }
        }
        switch schema["type"]?.stringValue {
        case "object": return checkObject(value, schema, path: path, go: go)
        case "array":
            guard let items = value.arrayValue else { mismatch(value, path, "array", go: go, goType: goType(schema)); return value }
            if let min = schema["minItems"].flatMap(intValue), items.count < min { fail(path, "FieldValueInvalid", "Invalid value: \(items.count): \(label(path)) in body should have at least \(min) items") }
            if let max = schema["maxItems"].flatMap(intValue), items.count > max { fail(path, "FieldValueTooMany", "Too many: \(items.count): must have at most \(max) items") }
            // Built-in kinds' set lists are Go validation's to check, not the schema's.
            if schema["x-kubernetes-list-type"] == "set", !builtIn {
                var seen = Set<JSON>()
                for (index, item) in items.enumerated() where !seen.insert(item).inserted {
                    fail("\(path)[\(index)]", "FieldValueDuplicate", "Duplicate value: \(item.compactText)")
                }
            }
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.enumerated().map { check($0.element, itemSchema, path: "\(path)[\($0.offset)]", go: go.element) ?? $0.element })
        case "string":
            guard let text = value.stringValue else { mismatch(value, path, "string", go: go, goType: goType(schema)); return value }
            if builtIn { checkFormat(text, schema, go: go) }
            if let min = schema["minLength"].flatMap(intValue), text.count < min { fail(path, "FieldValueInvalid", "Invalid value: \"\(text)\": \(label(path)) in body should be at least \(min) chars long") }
            if let max = schema["maxLength"].flatMap(intValue), text.count > max { fail(path, "FieldValueTooLong", "Too long: may not be more than \(max) bytes") }
            if let pattern = schema["pattern"]?.stringValue, let regex = CompiledPatterns.shared.regex(pattern),
               regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                fail(path, "FieldValueInvalid", "Invalid value: \"\(text)\": \(label(path)) in body should match '\(pattern)'")
            }
            checkEnum(value, schema, path: path)
        case "integer":
            guard case .int(let number) = value else { mismatch(value, path, "integer", go: go, goType: goType(schema)); return value }
            if builtIn, schema["format"] == "int32", number < Int(Int32.min) || number > Int(Int32.max) {
                decodeErrors.append("json: cannot unmarshal number \(number) into Go struct field \(go.structName).\(go.path) of type int32")
            }
            checkRange(Double(number), value, schema, path: path)
            checkEnum(value, schema, path: path)
        case "number":
            let number: Double
            switch value {
            case .int(let integer): number = Double(integer)
            case .number(let text): number = Double(text) ?? 0
            default: mismatch(value, path, "number", go: go, goType: "float64"); return value
            }
            checkRange(number, value, schema, path: path)
        case "boolean":
            guard case .bool = value else { mismatch(value, path, "boolean", go: go, goType: "bool"); return value }
        default:
            break
        }
        return value
    }

    private mutating func checkObject(_ value: JSON, _ schema: JSON, path: String, go: GoField) -> JSON {
        guard var object = value.objectValue else { mismatch(value, path, "object", go: go, goType: goType(schema)); return value }
        // Structural defaulting, as apiextensions-apiserver does it: a missing property with a
        // `default` gets it (then validated like anything sent, its own properties defaulted in turn).
        if !builtIn {
            for (key, property) in schema["properties"]?.objectValue?.pairs ?? JSONObject().pairs
            where object[key] == nil && !(path.isEmpty && ["apiVersion", "kind", "metadata"].contains(key)) {
                if let fallback = property["default"] { object[key] = fallback }
            }
        }
        for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[required] == nil {
            fail(join(path, required), "FieldValueRequired", "Required value")
        }
        let properties = schema["properties"]?.objectValue
        let additional = schema["additionalProperties"]
        let preserve = schema["x-kubernetes-preserve-unknown-fields"] == .bool(true)
        var result = JSONObject()
        for (key, child) in object.pairs {
            if path.isEmpty, !builtIn, ["apiVersion", "kind", "metadata"].contains(key) {
                result[key] = child
            } else if let propertySchema = properties?[key] {
                result[key] = check(child, propertySchema, path: join(path, key), go: go.child(key))
            } else if let additional, additional.objectValue != nil {
                result[key] = check(child, additional, path: join(path, key), go: go.element)
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

    private mutating func mismatch(_ value: JSON, _ path: String, _ expected: String, go: GoField, goType: String) {
        guard builtIn else {
            fail(path, "FieldValueTypeInvalid", "Invalid value: \"\(typeName(value))\": \(label(path)) in body must be of type \(expected): \(value.compactText)")
            return
        }
        let where_ = go.path.isEmpty ? "Go value" : "Go struct field \(go.structName).\(go.path)"
        decodeErrors.append("json: cannot unmarshal \(goValueName(value)) into \(where_) of type \(go.referenced.map { self.goType(["$ref": .string($0)]) } ?? goType)")
    }

    /// The formats Go's decoder enforces: base64 for `[]byte`, RFC 3339 for `metav1.Time`.
    private mutating func checkFormat(_ text: String, _ schema: JSON, go: GoField) {
        switch schema["format"]?.stringValue {
        case "byte":
            if Data(base64Encoded: text) == nil {
                // Never echo the value: it may be a secret.
                decodeErrors.append("illegal base64 data in \(go.structName).\(go.path): the values must be base64 (send plain text in stringData)")
            }
        case "date-time":
            if !text.isEmpty, !Self.isRFC3339(text) {
                decodeErrors.append("parsing time \"\(text.prefix(40))\" as \"2006-01-02T15:04:05Z07:00\": cannot parse (\(go.structName).\(go.path) must be RFC 3339)")
            }
        default: break
        }
    }

    /// `2006-01-02T15:04:05Z`, with optional fractional seconds and a numeric offset; by hand, as it runs on every write.
    static func isRFC3339(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.upperBound <= bytes.count && range.allSatisfy { (48...57).contains(bytes[$0]) } }
        func byte(_ index: Int, _ allowed: String) -> Bool { index < bytes.count && allowed.utf8.contains(bytes[index]) }
        guard digits(0..<4), byte(4, "-"), digits(5..<7), byte(7, "-"), digits(8..<10), byte(10, "Tt"),
              digits(11..<13), byte(13, ":"), digits(14..<16), byte(16, ":"), digits(17..<19) else { return false }
        var index = 19
        if byte(index, ".") {
            index += 1
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            if index == start { return false }
        }
        if byte(index, "Zz") { return index + 1 == bytes.count }
        return byte(index, "+-") && digits(index + 1..<index + 3) && byte(index + 3, ":") && digits(index + 4..<index + 6) && index + 6 == bytes.count
    }

    private func accepts(_ type: String, _ value: JSON) -> Bool {
        switch (type, value) {
        case ("string", .string), ("integer", .int), ("number", .int), ("number", .number), ("boolean", .bool), (_, .null): return true
        default: return false
        }
    }

    /// The Go type a schema node decodes into, as Go's JSON errors name it.
    private func goType(_ schema: JSON) -> String {
        if let reference = schema["$ref"]?.stringValue {
            if reference.hasSuffix("Quantity") { return "resource.Quantity" }
            let parts = reference.split(separator: ".")
            return parts.suffix(2).joined(separator: ".")
        }
        if schema["x-types"] != nil { return "resource.Quantity" }
        switch schema["type"]?.stringValue {
        case "string": return "string"
        case "integer": return schema["format"] == "int32" ? "int32" : "int64"
        case "number": return "float64"
        case "boolean": return "bool"
        case "array": return "[]" + (schema["items"].map(goType) ?? "interface {}")
        case "object": return schema["additionalProperties"].map { "map[string]" + goType($0) } ?? "map[string]interface {}"
        default: return "interface {}"
        }
    }

    private func goValueName(_ value: JSON) -> String {
        switch value {
        case .bool: return "bool"
        case .int, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        case .null: return "null"
        }
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

/// A schema's `pattern`s compiled once: ICU compiles a regular expression far more slowly than it matches one, and a
/// list of a thousand entries (a shared ledger's) would compile its patterns a thousand times a write.
/// NSRegularExpression is immutable and may match on several threads at once.
final class CompiledPatterns: Sendable {
    static let shared = CompiledPatterns()
    private let compiled = Mutex([String: NSRegularExpression?]())

    /// Nil when the pattern does not compile (the schema's check is then skipped, as before).
    func regex(_ pattern: String) -> NSRegularExpression? {
        if let known = compiled.withLock({ $0[pattern] }) { return known }
        let regex = try? NSRegularExpression(pattern: pattern)
        compiled.withLock { cache in
            // Schemas are few; a bound keeps a client that sends many CRDs from growing it without end.
            if cache.count >= 4096 { cache.removeAll() }
            cache[pattern] = .some(regex)
        }
        return regex
    }
}
