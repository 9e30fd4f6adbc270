import Model

/// One changed field: its path and the live and proposed values as display text (nil: absent).
public struct FieldChange: Sendable, Hashable {
    public var path: String
    public var before: String?
    public var after: String?

    public init(path: String, before: String?, after: String?) {
        self.path = path
        self.before = before
        self.after = after
    }
}

/// What `diff` found for one object.
public struct ObjectDiff: Sendable, Hashable {
    public var object: ObjectReference
    /// created, configured, unchanged, deleted (a prune) or failed.
    public var action: Action
    public var fields: [FieldChange]
    public var message: String

    public init(object: ObjectReference, action: Action, fields: [FieldChange] = [], message: String = "") {
        self.object = object
        self.action = action
        self.fields = fields
        self.message = message
    }

    /// The readable form: a header line, then `- path: old` / `+ path: new` per field, red and
    /// green when `color` is on. Secret values are already masked in `fields`.
    public func rendered(color: Bool) -> String {
        let red = color ? "\u{1B}[31m" : "", green = color ? "\u{1B}[32m" : "", bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        var text = "\(bold)\(object) \(action.rawValue)\(reset)" + (message.isEmpty ? "" : ": \(message)") + "\n"
        for field in fields {
            if let before = field.before { text += "\(red)  - \(field.path): \(before)\(reset)\n" }
            if let after = field.after { text += "\(green)  + \(field.path): \(after)\(reset)\n" }
        }
        return text
    }
}

/// Field-level comparison of two versions of an object, with server-set fields ignored and
/// Secret values masked (after Flux's `sanitize.go`).
enum Diffing {
    /// Fields the server sets on every write; they never count as a change.
    static let volatileMetadata: Set<String> = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"]

    static func sameContent(_ a: JSONObject, _ b: JSONObject) -> Bool {
        comparable(a) == comparable(b)
    }

    static func comparable(_ object: JSONObject) -> JSONObject {
        var object = object
        if var metadata = object["metadata"]?.objectValue {
            for key in volatileMetadata { metadata[key] = nil }
            object["metadata"] = .object(metadata)
        }
        object["status"] = nil
        return object
    }

    /// The fields that differ between `live` (nil: the object is new) and `proposed`.
    static func fields(live: JSONObject?, proposed: JSONObject?) -> [FieldChange] {
        let isSecret = (proposed ?? live)?["kind"]?.stringValue == "Secret"
        var before: [(String, String)] = []
        var after: [(String, String)] = []
        if let live { flatten(.object(comparable(live)), path: "", into: &before) }
        if let proposed { flatten(.object(comparable(proposed)), path: "", into: &after) }
        let old = Dictionary(before, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(after, uniquingKeysWith: { a, _ in a })
        var order: [String] = []
        var seen = Set<String>()
        for (path, _) in before + after where seen.insert(path).inserted { order.append(path) }
        return order.compactMap { path in
            let a = old[path], b = new[path]
            if a == b { return nil }
            if isSecret && (path.hasPrefix(".data.") || path.hasPrefix(".stringData.")) {
                return FieldChange(path: path, before: a == nil ? nil : "*** (before)", after: b == nil ? nil : "*** (after)")
            }
            return FieldChange(path: path, before: a, after: b)
        }
    }

    private static func flatten(_ value: JSON, path: String, into out: inout [(String, String)]) {
        switch value {
        case .object(let object) where !object.isEmpty:
            for (key, child) in object.pairs { flatten(child, path: path + "." + key, into: &out) }
        case .array(let items) where !items.isEmpty:
            for (index, child) in items.enumerated() { flatten(child, path: "\(path)[\(index)]", into: &out) }
        default:
            out.append((path.isEmpty ? "." : path, value.compactText))
        }
    }
}
