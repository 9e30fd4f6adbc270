/// A JSON value whose objects keep their keys in insertion order, so that a manifest built as
/// `apiVersion, kind, metadata, spec` is written in that order, byte for byte, every time.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    /// A non-integer number, kept as its decimal text so nothing is lost to binary floating point.
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }
}

/// An ordered JSON object. Keys are unique; setting an existing key replaces its value in place.
public struct JSONObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSON] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, JSON)...) {
        for (key, value) in elements { self[key] = value }
    }

    public init(_ pairs: [(String, JSON)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    public subscript(key: String) -> JSON? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let index = keys.firstIndex(of: key) {
                if let newValue { values[index] = newValue } else {
                    keys.remove(at: index)
                    values.remove(at: index)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public var pairs: Zip2Sequence<[String], [JSON]> { zip(keys, values) }

    /// The same object with keys in byte order; used where the order is not ours to choose.
    public func sortedByKey() -> JSONObject {
        let order = keys.indices.sorted { keys[$0].utf8.lexicographicallyPrecedes(keys[$1].utf8) }
        var sorted = JSONObject()
        sorted.keys = order.map { keys[$0] }
        sorted.values = order.map { values[$0] }
        return sorted
    }
}

// MARK: - Building

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }

    /// An array of strings.
    public static func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }
}

// MARK: - Writing

extension JSON {
    /// Compact JSON text. Object keys keep their order; the output is a pure function of the value.
    public var compactText: String {
        var out = ""
        out.reserveCapacity(256)
        write(to: &out, indent: nil, depth: 0)
        return out
    }

    /// Indented JSON text (two spaces), ending without a newline.
    public var prettyText: String { prettyText(depth: 0) }

    /// Indented JSON text as it reads when nested `depth` levels deep (its first line carries no indent).
    public func prettyText(depth: Int) -> String {
        var out = ""
        write(to: &out, indent: "  ", depth: depth)
        return out
    }

    private func write(to out: inout String, indent: String?, depth: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .number(let text): out += text
        case .string(let value): JSON.writeString(value, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                JSON.newline(&out, indent: indent, depth: depth + 1)
                item.write(to: &out, indent: indent, depth: depth + 1)
            }
            JSON.newline(&out, indent: indent, depth: depth)
            out += "]"
        case .object(let object):
            if object.isEmpty { out += "{}"; return }
            out += "{"
            for (index, (key, value)) in object.pairs.enumerated() {
                if index > 0 { out += "," }
                JSON.newline(&out, indent: indent, depth: depth + 1)
                JSON.writeString(key, to: &out)
                out += indent == nil ? ":" : ": "
                value.write(to: &out, indent: indent, depth: depth + 1)
            }
            JSON.newline(&out, indent: indent, depth: depth)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, indent: String?, depth: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<depth { out += indent }
    }

    private static func writeString(_ value: String, to out: inout String) {
        out += "\""
        // Most strings need no escaping: append them whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += value
            out += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
