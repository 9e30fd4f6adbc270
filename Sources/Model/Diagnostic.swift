/// A problem found in the tenant repo, pointing at the file, line, column and field.
/// Printed as `tenants/alpha.yaml:14:7: policy.budget.monthly: expected …`.
public struct Diagnostic: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public let severity: Severity
    /// Repo-relative path of the file.
    public let file: String
    public let mark: SourceMark?
    /// Dotted field path inside the file (`policy.budget.monthly`, `namespaces[0].name`); empty for the whole file.
    public let field: String
    public let message: String
    /// The tenant the problem belongs to; `nil` for the platform file.
    public let tenant: String?

    public init(_ severity: Severity = .error, file: String, mark: SourceMark?, field: String, message: String,
                tenant: String? = nil) {
        self.severity = severity
        self.file = file
        self.mark = mark
        self.field = field
        self.message = message
        self.tenant = tenant
    }

    public var location: String { mark.map { "\(file):\($0)" } ?? file }

    public var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return field.isEmpty ? "\(location): \(prefix)\(message)" : "\(location): \(prefix)\(field): \(message)"
    }

    public static func < (a: Diagnostic, b: Diagnostic) -> Bool {
        (a.file, a.mark?.line ?? 0, a.mark?.column ?? 0, a.field, a.message)
            < (b.file, b.mark?.line ?? 0, b.mark?.column ?? 0, b.field, b.message)
    }

    public var json: JSON {
        var object: JSONObject = ["severity": .string(severity.rawValue), "file": .string(file)]
        if let mark {
            object["line"] = .int(mark.line)
            object["column"] = .int(mark.column)
        }
        object["field"] = .string(field)
        object["message"] = .string(message)
        if let tenant { object["tenant"] = .string(tenant) }
        return .object(object)
    }
}

/// A place in the repo that something was declared, for cross-file messages.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let mark: SourceMark

    public init(file: String, mark: SourceMark) {
        self.file = file
        self.mark = mark
    }

    public var description: String { "\(file):\(mark)" }
}
