import Foundation
import Model

/// A `labelSelector` query: comma-separated requirements, all of which must hold.
/// Supports `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` and `!k`, as Kubernetes does.
struct LabelSelector: Sendable, Hashable {
    enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .isIn(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return !(labels[key].map(values.contains) ?? false)
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            }
        }
    }

    var requirements: [Requirement]

    func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    init(parsing text: String) throws(APIError) {
        requirements = []
        for clause in try Self.clauses(text) {
            requirements.append(try Self.requirement(clause, in: text))
        }
    }

    /// Splits on commas outside parentheses.
    private static func clauses(_ text: String) throws(APIError) -> [String] {
        var clauses: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1; current.append(character)
            case ")": depth -= 1; current.append(character)
            case "," where depth == 0: clauses.append(current); current = ""
            default: current.append(character)
            }
        }
        clauses.append(current)
        let trimmed = clauses.map { $0.trimmingCharacters(in: .whitespaces) }
        if trimmed == [""] { return [] }
        if trimmed.contains("") || depth != 0 { throw invalid(text, "empty requirement or unbalanced parentheses") }
        return trimmed
    }

    private static func requirement(_ clause: String, in text: String) throws(APIError) -> Requirement {
        if clause.hasPrefix("!") {
            return .doesNotExist(try key(String(clause.dropFirst()), in: text))
        }
        for (operator_, build) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] {
            if let range = clause.range(of: operator_) {
                let name = try key(String(clause[..<range.lowerBound]), in: text)
                return build(name, clause[range.upperBound...].trimmingCharacters(in: .whitespaces))
            }
        }
        let words = clause.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true).map(String.init)
        if words.count == 2 {
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for (operator_, build) in [("notin", Requirement.notIn), ("in", Requirement.isIn)] where rest.hasPrefix(operator_) {
                let list = rest.dropFirst(operator_.count).trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { throw invalid(text, "expected a (list) after \(operator_)") }
                let values = list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                return build(try key(words[0], in: text), Set(values))
            }
            throw invalid(text, "unknown operator in \"\(clause)\"")
        }
        return .exists(try key(clause, in: text))
    }

    private static func key(_ raw: String, in text: String) throws(APIError) -> String {
        let key = raw.trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, !key.contains(" ") else { throw invalid(text, "invalid label key \"\(key)\"") }
        return key
    }

    private static func invalid(_ text: String, _ why: String) -> APIError {
        APIError.badRequest("unable to parse requirement: labelSelector \"\(text)\": \(why)")
    }
}

/// A `fieldSelector` query (`=`, `==`, `!=`) on `metadata.name`, `metadata.namespace` and the labels
/// a kind adds (`involvedObject.name` for Events), as kube-apiserver supports them.
struct FieldSelector: Sendable, Hashable {
    struct Requirement: Sendable, Hashable {
        var field: String
        var value: String
        var equal: Bool
    }

    var requirements: [Requirement] = []

    init(parsing text: String, type: ResourceType) throws(APIError) {
        let supported = ["metadata.name", "metadata.namespace"] + type.fieldLabels
        for clause in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !clause.isEmpty {
            let equal = !clause.contains("!=")
            let parts = clause.components(separatedBy: equal ? (clause.contains("==") ? "==" : "=") : "!=")
            guard parts.count == 2 else { throw APIError.badRequest("invalid field selector \"\(text)\": expected field=value") }
            let field = parts[0].trimmingCharacters(in: .whitespaces)
            guard supported.contains(field) else {
                throw APIError.badRequest("field label not supported: \(field) (\(type.qualifiedName) select on \(supported.joined(separator: ", ")))")
            }
            requirements.append(Requirement(field: field, value: parts[1].trimmingCharacters(in: .whitespaces), equal: equal))
        }
    }

    func matches(_ object: JSON) -> Bool {
        requirements.allSatisfy { requirement in
            (Self.value(requirement.field, in: object) == requirement.value) == requirement.equal
        }
    }

    /// The field as text; a missing field is "" (so `involvedObject.uid=` selects events without one).
    /// `source` is the core Event's `source.component`, as kube-apiserver selects it.
    private static func value(_ field: String, in object: JSON) -> String {
        let path = field == "source" ? ["source", "component"] : field.split(separator: ".").map(String.init)
        switch object.value(at: path) {
        case .string(let text)?: return text
        case .int(let number)?: return String(number)
        case .bool(let flag)?: return flag ? "true" : "false"
        default: return ""
        }
    }
}
