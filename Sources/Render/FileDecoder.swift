import Model
import Support

/// Turns the YAML of one file into model values, collecting every problem with its line, column and field
/// instead of stopping at the first. Each reader returns `nil` after recording why.
final class FileDecoder {
    let file: String
    let tenant: String?
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String, tenant: String? = nil) {
        self.file = file
        self.tenant = tenant
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    func error(_ mark: SourceMark?, _ field: String, _ message: String) {
        diagnostics.append(Diagnostic(.error, file: file, mark: mark, field: field, message: message, tenant: tenant))
    }

    func warning(_ mark: SourceMark?, _ field: String, _ message: String) {
        diagnostics.append(Diagnostic(.warning, file: file, mark: mark, field: field, message: message, tenant: tenant))
    }

    func location(_ mark: SourceMark) -> SourceLocation { SourceLocation(file: file, mark: mark) }

    // MARK: - Collections

    /// A mapping whose keys must all be among `keys`; unknown ones are reported with a suggestion.
    func mapping(_ node: YAMLNode, _ path: String, keys: [String]) -> Fields? {
        guard case .mapping(let pairs) = node.content else {
            error(node.mark, path, "expected a mapping, got \(node.displayText)")
            return nil
        }
        for pair in pairs where !keys.contains(pair.key) {
            var message = "unknown field \"\(pair.key)\""
            if let suggestion = Suggest.closest(to: pair.key, among: keys) { message += " (did you mean \"\(suggestion)\"?)" }
            error(pair.keyMark, Fields.join(path, pair.key), message)
        }
        return Fields(node: node, path: path, pairs: pairs.filter { keys.contains($0.key) })
    }

    /// The items of a list, each with its path (`members[2]`). A null or absent list is empty.
    func list(_ node: YAMLNode?, _ path: String) -> [(node: YAMLNode, path: String)] {
        guard let node else { return [] }
        switch node.content {
        case .sequence(let items): return items.enumerated().map { ($1, "\(path)[\($0)]") }
        case .scalar where node.resolved == .null: return []
        default:
            error(node.mark, path, "expected a list, got \(node.displayText)")
            return []
        }
    }

    /// A list of strings, each checked by `validate` (which returns a problem, or nil), without repeats.
    func strings(_ node: YAMLNode?, _ path: String, validate: (String) -> String? = { _ in nil }) -> [String] {
        var seen: [String: Int] = [:]
        var values: [String] = []
        for item in list(node, path) {
            guard let value = string(item.node, item.path) else { continue }
            if let problem = validate(value) {
                error(item.node.mark, item.path, problem)
            } else if let first = seen[value] {
                error(item.node.mark, item.path, "\"\(value)\" is listed twice (also at \(path)[\(first)])")
            } else {
                seen[value] = values.count
                values.append(value)
            }
        }
        return values
    }

    // MARK: - Scalars

    func string(_ node: YAMLNode, _ path: String) -> String? {
        switch node.resolved {
        case .string(let value):
            if value.isEmpty { error(node.mark, path, "must not be empty") ; return nil }
            return value
        case .int, .float, .bool:
            if case .scalar(let text, _) = node.content {
                error(node.mark, path, "expected a string, got \(node.resolved.typeName) \(text) (quote it: \"\(text)\")")
            }
            return nil
        default:
            error(node.mark, path, "expected a string, got \(node.displayText)")
            return nil
        }
    }

    func int(_ node: YAMLNode, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard case .int(let value) = node.resolved else {
            error(node.mark, path, "expected an integer, got \(node.displayText)")
            return nil
        }
        guard range.contains(value) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            error(node.mark, path, "must be \(bound), got \(value)")
            return nil
        }
        return value
    }

    func bool(_ node: YAMLNode, _ path: String) -> Bool? {
        guard case .bool(let value) = node.resolved else {
            var message = "expected true or false, got \(node.displayText)"
            if case .scalar(let text, .plain) = node.content, ["yes", "no", "on", "off", "y", "n"].contains(text.lowercased()) {
                message += " (YAML 1.2 reads \(text) as a string; write true or false)"
            }
            error(node.mark, path, message)
            return nil
        }
        return value
    }

    /// A decimal amount: a quoted string is preferred, a plain number is read from its text exactly.
    func amount(_ node: YAMLNode, _ path: String) -> Amount? {
        let text: String?
        switch node.resolved {
        case .string(let value), .float(let value): text = value
        case .int(let value): text = String(value)
        default: text = nil
        }
        guard let text, let amount = Amount(text) else {
            error(node.mark, path, "expected a decimal string like \"1000.00\", got \(node.displayText)")
            return nil
        }
        return amount
    }

    func duration(_ node: YAMLNode, _ path: String) -> TimeSpan? {
        guard case .string(let text) = node.resolved, let duration = TimeSpan(text) else {
            error(node.mark, path, "expected a duration like \"30m\", \"2h\" or \"90d\" (units s, m, h, d, w, y), got \(node.displayText)")
            return nil
        }
        return duration
    }

    func quantity(_ node: YAMLNode, _ path: String) -> Quantity? {
        let text: String?
        switch node.resolved {
        case .string(let value), .float(let value): text = value
        case .int(let value) where value >= 0: text = String(value)
        default: text = nil
        }
        guard let text, let quantity = Quantity(text) else {
            error(node.mark, path, "expected a Kubernetes quantity like \"500m\", \"4\" or \"16Gi\", got \(node.displayText)")
            return nil
        }
        return quantity
    }

    func oneOf<T: RawRepresentable & Equatable>(_ node: YAMLNode, _ path: String, _ type: T.Type, choices: [T]) -> T? where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        guard let value = T(rawValue: text), choices.contains(value) else {
            let names = choices.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            var message = "unknown value \"\(text)\"; expected one of \(names)"
            if let suggestion = Suggest.closest(to: text, among: choices.map(\.rawValue)) { message += " (did you mean \"\(suggestion)\"?)" }
            error(node.mark, path, message)
            return nil
        }
        return value
    }
}

/// The known fields of one mapping, with its path for messages.
struct Fields {
    let node: YAMLNode
    let path: String
    let pairs: [YAMLPair]

    subscript(key: String) -> YAMLNode? {
        guard let pair = pairs.first(where: { $0.key == key }), pair.value.resolved != .null else { return nil }
        return pair.value
    }

    func path(_ key: String) -> String { Fields.join(path, key) }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of a field that must be present; reports it missing otherwise.
    func required(_ key: String, _ decoder: FileDecoder) -> YAMLNode? {
        if let value = self[key] { return value }
        decoder.error(node.mark, path, "missing required field \"\(key)\"")
        return nil
    }
}

/// Shapes of names used across the tenant repo.
enum Names {
    /// A DNS-1123 label: what Kubernetes accepts as a namespace name.
    static func dnsLabelProblem(_ name: String) -> String? {
        if name.count > 63 { return "\"\(name)\" is \(name.count) characters; a namespace name has at most 63" }
        let bytes = Array(name.utf8)
        let valid = bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && bytes.first != 45 && bytes.last != 45
        return valid ? nil : "\"\(name)\" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit"
    }

    /// A DNS-1123 subdomain: what Kubernetes accepts as a Secret (or ServiceAccount) name.
    static func dnsSubdomainProblem(_ name: String, kind: String = "Secret") -> String? {
        if name.count > 253 { return "\"\(name)\" is \(name.count) characters; a \(kind) name has at most 253" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !name.isEmpty && labels.allSatisfy { label in
            let bytes = Array(label.utf8)
            return !bytes.isEmpty && bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
                && bytes.first != 45 && bytes.last != 45
        }
        return valid ? nil : "\"\(name)\" is not a valid \(kind) name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    }

    /// Model, tool, runner and label-like identifiers.
    static func identifierProblem(_ value: String) -> String? {
        let ok = value.count <= 128 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:/@".contains($0)) }
        return ok ? nil : "\"\(value)\" may only hold letters, digits and - _ . : / @"
    }

    /// A user: an e-mail address or a plain user name; never a `system:` identity.
    static func userProblem(_ value: String) -> String? {
        if value.lowercased().hasPrefix("system:") {
            return "\"\(value)\" is a Kubernetes system identity; tenants may not grant roles to system users"
        }
        // OIDC providers often prefix user names (`oidc:alice`), so `:` is allowed.
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        let localOK = parts[0].count > 0 && parts[0].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._%+-:".contains($0)) }
        let domainOK = parts.count == 1 || (parts.count == 2 && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".") && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-".contains($0)) })
        return localOK && domainOK && value.count <= 253 ? nil : "\"\(value)\" is not a valid user: expected an e-mail address or a user name"
    }

    static func groupProblem(_ value: String) -> String? {
        if value.lowercased().hasPrefix("system:") {
            return "\"\(value)\" is a Kubernetes system group; tenants may not grant roles to system groups"
        }
        let ok = value.count <= 253 && value.first.map { $0.isLetter || $0.isNumber } == true
            && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._:/-".contains($0)) }
        return ok ? nil : "\"\(value)\" is not a valid group name: letters, digits and . _ : / -, starting with a letter or digit"
    }
}
