import Model

/// The gnostic `openapi_v2.Document` protobuf that client-go asks `/openapi/v2` for (kubectl parses
/// nothing else there): swagger, info, empty paths and the definitions, each schema with its ref,
/// format, type, required, properties, items, additionalProperties and vendor extensions (as YAML,
/// which JSON text is).
enum OpenAPIv2Protobuf {
    /// What client-go's Accept names; the answer's Content-Type spells the `@` as `.`, as
    /// kube-apiserver does (Go's mime parser refuses the `@`).
    static let mediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static func encode(_ document: JSON) -> [UInt8] {
        var out = Writer()
        out.string(1, document["swagger"]?.stringValue ?? "2.0")
        out.message(2) { info in
            info.string(1, document.value(at: ["info", "title"])?.stringValue ?? "")
            info.string(2, document.value(at: ["info", "version"])?.stringValue ?? "")
        }
        out.message(8) { _ in }
        out.message(9) { definitions in
            for (name, schema) in document["definitions"]?.objectValue?.pairs ?? JSONObject().pairs {
                definitions.message(1) { named in
                    named.string(1, name)
                    named.message(2) { encodeSchema(schema, into: &$0) }
                }
            }
        }
        return out.bytes
    }

    /// Schema: 1 _ref, 2 format, 4 description, 19 required, 20 enum, 21 additional_properties,
    /// 22 type, 23 items, 25 properties, 31 vendor_extension.
    private static func encodeSchema(_ schema: JSON, into out: inout Writer) {
        guard let object = schema.objectValue else { return }
        if let reference = object["$ref"]?.stringValue { out.string(1, reference) }
        if let format = object["format"]?.stringValue { out.string(2, format) }
        if let description = object["description"]?.stringValue { out.string(4, description) }
        for required in object["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] { out.string(19, required) }
        for value in object["enum"]?.arrayValue ?? [] { out.message(20) { $0.string(2, value.compactText) } }
        switch object["additionalProperties"] {
        case .object?: out.message(21) { item in item.message(1) { encodeSchema(object["additionalProperties"]!, into: &$0) } }
        case .bool(let allowed)?: out.message(21) { $0.bool(2, allowed) }
        default: break
        }
        if let type = object["type"]?.stringValue { out.message(22) { $0.string(1, type) } }
        if let items = object["items"] { out.message(23) { item in item.message(1) { encodeSchema(items, into: &$0) } } }
        if let properties = object["properties"]?.objectValue {
            out.message(25) { list in
                for (name, child) in properties.pairs {
                    list.message(1) { named in
                        named.string(1, name)
                        named.message(2) { encodeSchema(child, into: &$0) }
                    }
                }
            }
        }
        for (key, value) in object.pairs where key.hasPrefix("x-") {
            out.message(31) { named in
                named.string(1, key)
                named.message(2) { $0.string(2, value.compactText) }
            }
        }
    }

    /// Protobuf wire format: varint keys, length-delimited strings and messages, varint bools.
    private struct Writer {
        var bytes: [UInt8] = []

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func string(_ field: Int, _ text: String) {
            varint(UInt64(field << 3 | 2))
            varint(UInt64(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        }

        mutating func bool(_ field: Int, _ value: Bool) {
            varint(UInt64(field << 3))
            varint(value ? 1 : 0)
        }

        mutating func message(_ field: Int, _ body: (inout Writer) -> Void) {
            var inner = Writer()
            body(&inner)
            varint(UInt64(field << 3 | 2))
            varint(UInt64(inner.bytes.count))
            bytes.append(contentsOf: inner.bytes)
        }
    }
}
