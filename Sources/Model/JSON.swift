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

    /// Changes an object value in place, without copying it; a value that is not an object becomes an empty one first.
    public mutating func updateObject(_ body: (inout JSONObject) -> Void) {
        var object = JSONObject()
        if case .object(let existing) = self { object = existing }
        self = .null
        body(&object)
        self = .object(object)
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

    /// Literal keys are unique by construction (as with Dictionary literals), so they are appended unchecked.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        keys = elements.map(\.0)
        values = elements.map(\.1)
        assert(Set(keys).count == keys.count, "duplicate key in a JSONObject literal")
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

    /// Changes the value under `key` in place (adding `null` first when missing), without copying it.
    public mutating func update(_ key: String, _ body: (inout JSON) -> Void) {
        if keys.firstIndex(of: key) == nil {
            keys.append(key)
            values.append(.null)
        }
        let index = keys.firstIndex(of: key)!
        var value = JSON.null
        swap(&value, &values[index])
        body(&value)
        swap(&value, &values[index])
    }

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
    public var compactText: String { String(decoding: compactBytes, as: UTF8.self) }

    /// Compact JSON as UTF-8 bytes: what content hashes are computed over.
    public var compactBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512)
        write(to: &out, indent: false, depth: 0)
        return out
    }

    /// Indented JSON text (two spaces), ending without a newline.
    public var prettyText: String { prettyText(depth: 0) }

    /// Indented JSON text as it reads when nested `depth` levels deep (its first line carries no indent).
    public func prettyText(depth: Int) -> String {
        var out = [UInt8]()
        out.reserveCapacity(1024)
        write(to: &out, indent: true, depth: depth)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8], indent: Bool, depth: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let value): JSON.writeString(value, to: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSON.newline(&out, indent: indent, depth: depth + 1)
                item.write(to: &out, indent: indent, depth: depth + 1)
            }
            JSON.newline(&out, indent: indent, depth: depth)
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for index in object.keys.indices {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSON.newline(&out, indent: indent, depth: depth + 1)
                JSON.writeString(object.keys[index], to: &out)
                out.append(UInt8(ascii: ":"))
                if indent { out.append(UInt8(ascii: " ")) }
                object.values[index].write(to: &out, indent: indent, depth: depth + 1)
            }
            JSON.newline(&out, indent: indent, depth: depth)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], indent: Bool, depth: Int) {
        guard indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private static func writeString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole.
        let plain = value.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        if plain == true {
            out.append(contentsOf: value.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
