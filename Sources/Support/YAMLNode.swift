import Model

/// One node of a parsed YAML document, with where it stands in its file.
/// Aliases are already expanded (bounded by `YAMLLimits.maxAliasExpansion`).
public struct YAMLNode: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public enum ScalarStyle: Sendable, Hashable {
        /// Plain scalars are resolved by the YAML 1.2 core schema (null, bool, int, float, else string).
        case plain
        /// Quoted and block scalars, and those tagged `!!str`, are always strings.
        case string
    }

    public let content: Content
    public let mark: SourceMark

    public init(_ content: Content, mark: SourceMark) {
        self.content = content
        self.mark = mark
    }

    /// The value under the YAML 1.2 core schema: `no`, `on` and `NO` stay strings; quoted scalars stay strings.
    public var resolved: Resolved {
        switch content {
        case .scalar(let text, .string): return .string(text)
        case .scalar(let text, .plain): return CoreSchema.resolve(text)
        case .sequence: return .sequence
        case .mapping: return .mapping
        }
    }

    /// What a node resolves to, for type checks and messages.
    public enum Resolved: Sendable, Hashable {
        case null, bool(Bool), int(Int), float(String), string(String), sequence, mapping

        /// The word used in "expected X, got Y" messages.
        public var typeName: String {
            switch self {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .float: return "a number"
            case .string: return "a string"
            case .sequence: return "a list"
            case .mapping: return "a mapping"
            }
        }
    }

    /// The scalar's text as written (for messages), or a short description of a collection.
    public var displayText: String {
        switch content {
        case .scalar(let text, .string): return "\"\(text)\""
        case .scalar(let text, .plain):
            if case .string = resolved { return "\"\(text)\"" }
            return text.isEmpty ? "null" : text
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// The node as JSON, with scalars resolved by the core schema.
    public var json: JSON {
        switch content {
        case .sequence(let items): return .array(items.map(\.json))
        case .mapping(let pairs):
            var object = JSONObject()
            for pair in pairs { object[pair.key] = pair.value.json }
            return .object(object)
        case .scalar:
            switch resolved {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .int(value)
            case .float(let text): return .number(text)
            case .string(let value): return .string(value)
            case .sequence, .mapping: return .null
            }
        }
    }
}

/// A mapping entry. Keys are scalars (the parser refuses others), so they are kept as text.
public struct YAMLPair: Sendable, Hashable {
    public let key: String
    public let keyMark: SourceMark
    public let value: YAMLNode

    public init(key: String, keyMark: SourceMark, value: YAMLNode) {
        self.key = key
        self.keyMark = keyMark
        self.value = value
    }
}

/// YAML 1.2 core schema resolution of plain scalars (https://yaml.org/spec/1.2.2/#103-core-schema).
public enum CoreSchema {
    public static func resolve(_ text: String) -> YAMLNode.Resolved {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
            ".nan", ".NaN", ".NAN":
            return .float(text)
        default: break
        }
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".") || isDigit(first)
        else { return .string(text) }
        if let value = integer(bytes) { return .int(value) }
        if isFloat(bytes) { return .float(text) }
        return .string(text)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    private static func integer(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            if bytes[1] == UInt8(ascii: "o") { return Int(text.dropFirst(2), radix: 8) }
            if bytes[1] == UInt8(ascii: "x") { return Int(text.dropFirst(2), radix: 16) }
        }
        var digits = bytes[...]
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else { return nil }
        return Int(text)
    }

    /// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
    private static func isFloat(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                _ = digits()
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }
}
