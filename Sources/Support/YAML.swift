import CTenantry
import Model

/// Limits that keep hostile YAML from exhausting the process.
public struct YAMLLimits: Sendable {
    /// Deepest nesting of sequences and mappings.
    public var maxDepth: Int = 64
    /// Nodes that aliases may add by expansion beyond the nodes written out (bounds "billion laughs").
    public var maxAliasExpansion: Int = 10_000

    public init(maxDepth: Int = 64, maxAliasExpansion: Int = 10_000) {
        self.maxDepth = maxDepth
        self.maxAliasExpansion = maxAliasExpansion
    }
}

/// A YAML document that could not be read, with where and why.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case syntax, notUTF8, tooDeep, aliasExpansion, duplicateKey, nonScalarKey, tag, undefinedAlias
    }

    public let reason: Reason
    public let mark: SourceMark
    public let message: String

    public init(_ reason: Reason, at mark: SourceMark, _ message: String) {
        self.reason = reason
        self.mark = mark
        self.message = message
    }

    public var description: String { "\(mark): \(message)" }
}

/// The libyaml wrapper: the only place in Support that touches libyaml.
public enum YAML {
    /// Parses every document of a YAML stream into node trees with source marks.
    public static func parseDocuments(_ bytes: [UInt8], limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> [YAMLNode] {
        try checkUTF8(bytes)
        var builder = TreeBuilder(limits: limits)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(.syntax, at: SourceMark(line: 1, column: 1), "libyaml could not initialise a parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }

        return try bytes.withUnsafeBufferPointer { buffer throws(YAMLError) -> [YAMLNode] in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError(parser, bytes) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.handle(event)
            }
            return builder.documents
        }
    }

    /// Parses a stream that must hold exactly one document; `nil` for an empty stream.
    public static func parseDocument(_ bytes: [UInt8], limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLNode? {
        let documents = try parseDocuments(bytes, limits: limits)
        if documents.count > 1 {
            throw YAMLError(.syntax, at: documents[1].mark,
                            "found \(documents.count) YAML documents; this file must hold exactly one (remove the extra `---`)")
        }
        return documents.first
    }

    /// Writes values as a YAML stream, one document each, in block style.
    /// Strings that another YAML reader would take for a number, boolean or null are quoted.
    public static func emit(_ documents: [JSON]) -> String {
        let emitter = Emitter()
        emitter.send { yaml_stream_start_event_initialize($0, YAML_UTF8_ENCODING) }
        for document in documents {
            emitter.send { yaml_document_start_event_initialize($0, nil, nil, nil, 0) }
            emitter.node(document)
            emitter.send { yaml_document_end_event_initialize($0, 1) }
        }
        emitter.send { yaml_stream_end_event_initialize($0) }
        return String(decoding: emitter.bytes, as: UTF8.self)
    }

    // MARK: - Parsing helpers

    private static func parserError(_ parser: yaml_parser_t, _ bytes: [UInt8]) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        let context = parser.context.map { String(cString: $0) }
        let mark = SourceMark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        var message = context.map { "\(problem) (\($0) at line \(parser.context_mark.line + 1))" } ?? problem
        // The commonest cause of libyaml's most cryptic message.
        if Int(parser.problem_mark.index) < bytes.count, bytes[Int(parser.problem_mark.index)] == 0x09 {
            message += "; YAML does not allow tabs for indentation: indent with spaces"
        }
        return YAMLError(.syntax, at: mark, message)
    }

    /// libyaml also rejects bad UTF-8, but this names the byte and where it is.
    private static func checkUTF8(_ bytes: [UInt8]) throws(YAMLError) {
        var line = 1, column = 1, index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 0
            }
            var valid = length > 0 && index + length <= bytes.count
            if valid && length > 1 {
                valid = bytes[(index + 1)..<(index + length)].allSatisfy { $0 & 0xC0 == 0x80 }
                // Overlong, surrogate and out-of-range forms.
                if valid && length == 3 {
                    let second = bytes[index + 1]
                    if byte == 0xE0 && second < 0xA0 || byte == 0xED && second > 0x9F { valid = false }
                }
                if valid && length == 4 {
                    let second = bytes[index + 1]
                    if byte == 0xF0 && second < 0x90 || byte == 0xF4 && second > 0x8F { valid = false }
                }
            }
            guard valid else {
                let hex = String(byte, radix: 16, uppercase: true)
                throw YAMLError(.notUTF8, at: SourceMark(line: line, column: column),
                                "file is not valid UTF-8 (byte 0x\(hex.count == 1 ? "0" + hex : hex)); save it as UTF-8")
            }
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
            index += length
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    /// Builds node trees from parser events.
    private struct TreeBuilder {
        enum Frame {
            case sequence(items: [YAMLNode], mark: SourceMark, anchor: String?, size: Int)
            case mapping(pairs: [YAMLPair], pendingKey: (String, SourceMark)?, seen: [String: SourceMark],
                         mark: SourceMark, anchor: String?, size: Int)
        }

        let limits: YAMLLimits
        var documents: [YAMLNode] = []
        var stack: [Frame] = []
        var anchors: [String: (node: YAMLNode, size: Int)] = [:]
        var expandedByAliases = 0
        var sawDocumentRoot = false

        init(limits: YAMLLimits) { self.limits = limits }

        mutating func handle(_ event: yaml_event_t) throws(YAMLError) {
            let mark = SourceMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
                sawDocumentRoot = false
            case YAML_DOCUMENT_END_EVENT:
                // An empty document (`---` alone) holds a null.
                if !sawDocumentRoot { documents.append(YAMLNode(.scalar("", .plain), mark: mark)) }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = YAML.string(scalar.value, scalar.length)
                var style: YAMLNode.ScalarStyle = scalar.style == YAML_PLAIN_SCALAR_STYLE ? .plain : .string
                if let tag = YAML.string(scalar.tag) { style = try Self.checkScalarTag(tag, text: text, style: style, at: mark) }
                try add(YAMLNode(.scalar(text, style), mark: mark), size: 1, anchor: YAML.string(scalar.anchor))
            case YAML_ALIAS_EVENT:
                let name = YAML.string(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    throw YAMLError(.undefinedAlias, at: mark, "alias *\(name) refers to no anchor defined before it")
                }
                expandedByAliases += target.size
                if expandedByAliases > limits.maxAliasExpansion {
                    throw YAMLError(.aliasExpansion, at: mark,
                                    "aliases expand to more than \(limits.maxAliasExpansion) nodes; refusing a possible \"billion laughs\" document")
                }
                try add(target.node, size: target.size, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                try checkCollectionTag(YAML.string(event.data.sequence_start.tag), expected: "seq", at: mark)
                try push(.sequence(items: [], mark: mark, anchor: YAML.string(event.data.sequence_start.anchor), size: 1), at: mark)
            case YAML_MAPPING_START_EVENT:
                try checkCollectionTag(YAML.string(event.data.mapping_start.tag), expected: "map", at: mark)
                try push(.mapping(pairs: [], pendingKey: nil, seen: [:], mark: mark,
                                  anchor: YAML.string(event.data.mapping_start.anchor), size: 1), at: mark)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                switch stack.removeLast() {
                case .sequence(let items, let start, let anchor, let size):
                    try add(YAMLNode(.sequence(items), mark: start), size: size, anchor: anchor)
                case .mapping(let pairs, _, _, let start, let anchor, let size):
                    try add(YAMLNode(.mapping(pairs), mark: start), size: size, anchor: anchor)
                }
            default:
                break
            }
        }

        private mutating func push(_ frame: Frame, at mark: SourceMark) throws(YAMLError) {
            if case .mapping(_, nil, _, _, _, _)? = stack.last {
                throw YAMLError(.nonScalarKey, at: mark, "mapping keys must be plain strings, not lists or mappings")
            }
            guard stack.count < limits.maxDepth else {
                throw YAMLError(.tooDeep, at: mark, "nesting deeper than \(limits.maxDepth) levels")
            }
            stack.append(frame)
        }

        private mutating func add(_ node: YAMLNode, size: Int, anchor: String?) throws(YAMLError) {
            if let anchor { anchors[anchor] = (node, size) }
            guard let top = stack.popLast() else {
                documents.append(node)
                sawDocumentRoot = true
                return
            }
            switch top {
            case .sequence(var items, let mark, let seqAnchor, let total):
                items.append(node)
                stack.append(.sequence(items: items, mark: mark, anchor: seqAnchor, size: total + size))
            case .mapping(var pairs, let pendingKey, var seen, let mark, let mapAnchor, let total):
                if let (key, keyMark) = pendingKey {
                    pairs.append(YAMLPair(key: key, keyMark: keyMark, value: node))
                    stack.append(.mapping(pairs: pairs, pendingKey: nil, seen: seen, mark: mark, anchor: mapAnchor, size: total + size))
                } else {
                    guard case .scalar(let key, _) = node.content else {
                        throw YAMLError(.nonScalarKey, at: node.mark, "mapping keys must be plain strings, not lists or mappings")
                    }
                    if let first = seen[key] {
                        throw YAMLError(.duplicateKey, at: node.mark,
                                        "duplicate key \"\(key)\" (first defined at line \(first.line)); keep one of them")
                    }
                    seen[key] = node.mark
                    stack.append(.mapping(pairs: pairs, pendingKey: (key, node.mark), seen: seen, mark: mark,
                                          anchor: mapAnchor, size: total + size))
                }
            }
        }

        private static let coreTagPrefix = "tag:yaml.org,2002:"

        /// Core-schema tags are honoured; any other tag (`!!python/object`, `!custom`) is refused.
        private static func checkScalarTag(_ tag: String, text: String, style: YAMLNode.ScalarStyle,
                                           at mark: SourceMark) throws(YAMLError) -> YAMLNode.ScalarStyle {
            let resolved = style == .plain ? CoreSchema.resolve(text) : .string(text)
            let fits: Bool
            switch tag {
            case coreTagPrefix + "str": return .string
            case coreTagPrefix + "null": if case .null = resolved { fits = true } else { fits = false }
            case coreTagPrefix + "bool": if case .bool = resolved { fits = true } else { fits = false }
            case coreTagPrefix + "int": if case .int = resolved { fits = true } else { fits = false }
            case coreTagPrefix + "float":
                switch resolved { case .float, .int: fits = true; default: fits = false }
            default:
                throw YAMLError(.tag, at: mark, "tag \(displayTag(tag)) is not allowed; write plain values without tags")
            }
            guard fits else {
                throw YAMLError(.tag, at: mark, "value \(text) does not match its tag \(displayTag(tag))")
            }
            return style
        }

        private func checkCollectionTag(_ tag: String?, expected: String, at mark: SourceMark) throws(YAMLError) {
            guard let tag, tag != Self.coreTagPrefix + expected else { return }
            throw YAMLError(.tag, at: mark, "tag \(Self.displayTag(tag)) is not allowed; write plain values without tags")
        }

        private static func displayTag(_ tag: String) -> String {
            tag.hasPrefix(coreTagPrefix) ? "!!" + tag.dropFirst(coreTagPrefix.count) : tag
        }
    }

    // MARK: - Emitting helpers

    /// One libyaml emitter writing into a byte buffer.
    private final class Emitter {
        private let emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
        private let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        var bytes: [UInt8] = []

        init() {
            bytes.reserveCapacity(4096)
            guard yaml_emitter_initialize(emitter) == 1 else { fatalError("libyaml could not initialise an emitter (out of memory)") }
            yaml_emitter_set_unicode(emitter, 1)
            yaml_emitter_set_width(emitter, -1)
            yaml_emitter_set_indent(emitter, 2)
            yaml_emitter_set_output(emitter, { context, buffer, size in
                guard let context, let buffer else { return 0 }
                Unmanaged<Emitter>.fromOpaque(context).takeUnretainedValue()
                    .bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, Unmanaged.passUnretained(self).toOpaque())
        }

        deinit {
            yaml_emitter_delete(emitter)
            emitter.deallocate()
            event.deallocate()
        }

        /// Initialises the event, then emits it (libyaml takes ownership and frees it).
        func send(_ initialise: (UnsafeMutablePointer<yaml_event_t>) -> Int32) {
            // Initialisers only fail when memory is exhausted; the emitter only on events out of order, which
            // this type never produces.
            guard initialise(event) == 1, yaml_emitter_emit(emitter, event) == 1 else {
                fatalError("libyaml emitter: \(emitter.pointee.problem.map { String(cString: $0) } ?? "out of memory")")
            }
        }

        func node(_ value: JSON) {
            switch value {
            case .null: scalar("null", YAML_PLAIN_SCALAR_STYLE)
            case .bool(let flag): scalar(flag ? "true" : "false", YAML_PLAIN_SCALAR_STYLE)
            case .int(let number): scalar(String(number), YAML_PLAIN_SCALAR_STYLE)
            case .number(let text): scalar(text, YAML_PLAIN_SCALAR_STYLE)
            case .string(let text): scalar(text, YAML.stringStyle(text))
            case .array(let items):
                let style = items.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
                send { yaml_sequence_start_event_initialize($0, nil, nil, 1, style) }
                for item in items { node(item) }
                send { yaml_sequence_end_event_initialize($0) }
            case .object(let object):
                let style = object.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
                send { yaml_mapping_start_event_initialize($0, nil, nil, 1, style) }
                for (key, item) in object.pairs {
                    scalar(key, YAML.stringStyle(key))
                    node(item)
                }
                send { yaml_mapping_end_event_initialize($0) }
            }
        }

        private func scalar(_ text: String, _ style: yaml_scalar_style_t) {
            var text = text
            text.makeContiguousUTF8()
            // libyaml copies the value; it needs a non-null pointer even for the empty string.
            if text.isEmpty { text = "\0" }
            let length = Int32(text.utf8.count) - (text == "\0" ? 1 : 0)
            send { event in
                text.utf8.withContiguousStorageIfAvailable {
                    yaml_scalar_event_initialize(event, nil, nil, $0.baseAddress, length, 1, 1, style)
                }!
            }
        }
    }

    /// Plain where every YAML reader (1.1 and 1.2) reads it back as the same string; quoted otherwise.
    /// Runs for every key and string written, so the common cases decide on the bytes without allocating.
    static func stringStyle(_ text: String) -> yaml_scalar_style_t {
        var text = text
        text.makeContiguousUTF8()
        let quick = text.utf8.withContiguousStorageIfAvailable { bytes -> yaml_scalar_style_t? in
            guard let first = bytes.first else { return YAML_DOUBLE_QUOTED_SCALAR_STYLE }
            if bytes.contains(10) { return YAML_LITERAL_SCALAR_STYLE }
            let lower = first | 0x20
            if lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z") {
                // Only short words starting with a letter can be YAML 1.1 or 1.2 booleans or null.
                guard bytes.count <= 5 else { return YAML_ANY_SCALAR_STYLE }
                return isSpecialWord(bytes) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE
            }
            let startsNumber = (first >= 48 && first <= 57) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
                || first == UInt8(ascii: ".")
            if !startsNumber && first != UInt8(ascii: "~") && first != UInt8(ascii: "=") && first != UInt8(ascii: "<") {
                // libyaml quotes indicator characters (`*`, `&`, `!`, `#`, `[`, …) itself.
                return YAML_ANY_SCALAR_STYLE
            }
            return nil
        }
        return quick.flatMap { $0 } ?? slowStringStyle(text)
    }

    private static let specialWords: [[UInt8]] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"].map { Array($0.utf8) }

    private static func isSpecialWord(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        specialWords.contains { word in
            word.count == bytes.count && zip(word, bytes).allSatisfy { $0 == $1 | 0x20 }
        }
    }

    private static func slowStringStyle(_ text: String) -> yaml_scalar_style_t {
        if case .string = CoreSchema.resolve(text), !yaml11Special(text) { return YAML_ANY_SCALAR_STYLE }
        return YAML_DOUBLE_QUOTED_SCALAR_STYLE
    }

    /// Words YAML 1.1 readers (go-yaml v2, PyYAML) take for booleans or null, and sexagesimal or
    /// underscored numbers they take for integers.
    private static func yaml11Special(_ text: String) -> Bool {
        switch text.lowercased() {
        case "y", "n", "yes", "no", "on", "off", "=", "<<", "~", "null", "true", "false": return true
        default: break
        }
        guard let first = text.utf8.first, (48...57).contains(first) || first == 43 || first == 45 || first == 46 else {
            return false
        }
        return text.utf8.allSatisfy { (48...57).contains($0) || Array("+-._:eExXoObBaAcCdDfF".utf8).contains($0) }
    }
}
