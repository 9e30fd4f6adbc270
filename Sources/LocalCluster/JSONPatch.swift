import Model

/// RFC 6902 JSON Patch (`application/json-patch+json`, what `kubectl patch --type json` and kubectl's
/// managedFields migration send): add, remove, replace, move, copy and test on RFC 6901 pointers.
/// Answered as kube-apiserver answers: 400 for a document that is not a list of operations, 422 for
/// one that does not apply.
struct JSONPatch {
    private struct Operation {
        var op: String
        var path: [String]
        var value: JSON
        var from: [String]
    }

    /// An operation that does not apply (a missing path, a failed test).
    private struct Failure: Error {}

    private let operations: [Operation]

    init(_ document: JSON) throws(APIError) {
        guard let items = document.arrayValue else {
            throw APIError.badRequest("json: cannot unmarshal \(document.objectValue != nil ? "object" : "value") into Go value of type jsonpatch.Patch")
        }
        guard items.count <= 10_000 else {
            throw APIError(code: 413, reason: "RequestEntityTooLarge",
                           message: "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got \(items.count)")
        }
        var operations: [Operation] = []
        for item in items {
            guard let op = item["op"]?.stringValue, ["add", "remove", "replace", "move", "copy", "test"].contains(op),
                  let path = item["path"]?.stringValue.flatMap(Self.pointer) else { throw Self.invalid }
            let value = item.objectValue?["value"]
            if ["add", "replace", "test"].contains(op), value == nil { throw Self.invalid }
            var from: [String] = []
            if ["move", "copy"].contains(op) {
                guard let pointer = item["from"]?.stringValue.flatMap(Self.pointer) else { throw Self.invalid }
                from = pointer
            }
            operations.append(Operation(op: op, path: path, value: value ?? .null, from: from))
        }
        self.operations = operations
    }

    /// The document with every operation applied in order, or 422 at the first that does not apply.
    func apply(to document: JSON) throws(APIError) -> JSON {
        var document = document
        do {
            for operation in operations { try apply(operation, to: &document) }
        } catch {
            throw Self.invalid
        }
        return document
    }

    private func apply(_ operation: Operation, to document: inout JSON) throws(Failure) {
        switch operation.op {
        case "add":
            try Self.add(operation.value, at: operation.path, in: &document)
        case "remove":
            _ = try Self.remove(at: operation.path, in: &document)
        case "replace":
            guard Self.get(operation.path, in: document) != nil else { throw Failure() }
            _ = try Self.remove(at: operation.path, in: &document)
            try Self.add(operation.value, at: operation.path, in: &document)
        case "move":
            // A value cannot move into itself.
            if operation.path.count > operation.from.count, operation.path.starts(with: operation.from) { throw Failure() }
            let value = try Self.remove(at: operation.from, in: &document)
            try Self.add(value, at: operation.path, in: &document)
        case "copy":
            guard let value = Self.get(operation.from, in: document) else { throw Failure() }
            try Self.add(value, at: operation.path, in: &document)
        default: // test
            guard let found = Self.get(operation.path, in: document), Self.equal(found, operation.value) else { throw Failure() }
        }
    }

    /// RFC 6901: "" is the whole document; each token unescapes ~1 to / and ~0 to ~.
    private static func pointer(_ text: String) -> [String]? {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { return nil }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ path: [String], in document: JSON) -> JSON? {
        var current = document
        for token in path {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = arrayIndex(token), index < items.count else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    private static func add(_ value: JSON, at path: [String], in document: inout JSON) throws(Failure) {
        guard let last = path.last else { document = value; return }
        try modifyParent(of: path, in: &document) { (parent: inout JSON) throws(Failure) in
            switch parent {
            case .object(var object):
                object[last] = value
                parent = .object(object)
            case .array(var items):
                guard let index = last == "-" ? items.count : arrayIndex(last), index <= items.count else { throw Failure() }
                items.insert(value, at: index)
                parent = .array(items)
            default: throw Failure()
            }
        }
    }

    private static func remove(at path: [String], in document: inout JSON) throws(Failure) -> JSON {
        guard let last = path.last else { throw Failure() }
        var removed = JSON.null
        try modifyParent(of: path, in: &document) { (parent: inout JSON) throws(Failure) in
            switch parent {
            case .object(var object):
                guard let value = object[last] else { throw Failure() }
                removed = value
                object[last] = nil
                parent = .object(object)
            case .array(var items):
                guard let index = arrayIndex(last), index < items.count else { throw Failure() }
                removed = items.remove(at: index)
                parent = .array(items)
            default: throw Failure()
            }
        }
        return removed
    }

    /// Runs `body` on the container that holds the path's last token.
    private static func modifyParent(of path: [String], in document: inout JSON, _ body: (inout JSON) throws(Failure) -> Void) throws(Failure) {
        if path.count == 1 { try body(&document); return }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var object):
            guard var child = object[path[0]] else { throw Failure() }
            try modifyParent(of: rest, in: &child, body)
            object[path[0]] = child
            document = .object(object)
        case .array(var items):
            guard let index = arrayIndex(path[0]), index < items.count else { throw Failure() }
            try modifyParent(of: rest, in: &items[index], body)
            document = .array(items)
        default: throw Failure()
        }
    }

    /// A decimal index without leading zeros, as RFC 6901 spells array positions.
    private static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ (48...57).contains($0) }), token == "0" || !token.hasPrefix("0") else { return nil }
        return Int(token)
    }

    /// Numbers compare by value (1 and 1.0 are equal), everything else structurally.
    private static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int(let x), .number(let y)), (.number(let y), .int(let x)): return Double(y) == Double(x)
        case (.number(let x), .number(let y)): return Double(x) == Double(y)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0.0, $0.1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.pairs.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        default: return a == b
        }
    }

    /// kube-apiserver's answer to a patch that does not apply: 422 with its generic message (it drops
    /// the library's reason, so kubectl prints "The request is invalid: the server rejected our
    /// request due to an error in our request").
    private static let invalid = APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request")
}
