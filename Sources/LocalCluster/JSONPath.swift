import Model

/// The JSONPath subset CRD printer columns use (client-go's jsonpath): `.a.b`, `['a.b']`, `[0]`,
/// `[-1]`, `[*]`, `.*` and filters `[?(@.type=="Ready")]` (==, !=, <, <=, >, >= against a string,
/// number or boolean, or `[?(@.x)]` for presence). A column shows the first value found.
enum JSONPath {
    private enum Step {
        case field(String)
        case index(Int)
        case all
        case filter(path: [Step], op: String?, literal: JSON?)
    }

    static func evaluate(_ path: String, in object: JSON) -> JSON? {
        var text = Substring(path.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("{"), text.hasSuffix("}") { text = text.dropFirst().dropLast() }
        guard let steps = parse(&text), text.isEmpty else { return nil }
        return walk(steps[...], [object]).first
    }

    private static func walk(_ steps: ArraySlice<Step>, _ values: [JSON]) -> [JSON] {
        guard let step = steps.first else { return values }
        var next: [JSON] = []
        for value in values {
            switch step {
            case .field(let name):
                if let child = value[name] { next.append(child) }
            case .index(let index):
                guard let items = value.arrayValue else { continue }
                let position = index < 0 ? items.count + index : index
                if items.indices.contains(position) { next.append(items[position]) }
            case .all:
                if let items = value.arrayValue { next += items } else if let object = value.objectValue { next += object.values }
            case .filter(let path, let op, let literal):
                for item in value.arrayValue ?? [] {
                    guard let found = walk(path[...], [item]).first else { continue }
                    if let op, let literal {
                        if compare(found, op, literal) { next.append(item) }
                    } else {
                        next.append(item)
                    }
                }
            }
        }
        return walk(steps.dropFirst(), next)
    }

    private static func compare(_ value: JSON, _ op: String, _ literal: JSON) -> Bool {
        if let left = number(value), let right = number(literal) {
            switch op {
            case "==": return left == right
            case "!=": return left != right
            case "<": return left < right
            case "<=": return left <= right
            case ">": return left > right
            default: return left >= right
            }
        }
        switch op {
        case "==": return value == literal
        case "!=": return value != literal
        default:
            guard let left = value.stringValue, let right = literal.stringValue else { return false }
            switch op {
            case "<": return left < right
            case "<=": return left <= right
            case ">": return left > right
            default: return left >= right
            }
        }
    }

    private static func number(_ value: JSON) -> Double? {
        switch value {
        case .int(let integer): return Double(integer)
        case .number(let text): return Double(text)
        default: return nil
        }
    }

    /// Steps until the text runs out or a `)` ends a filter's path.
    private static func parse(_ text: inout Substring) -> [Step]? {
        var steps: [Step] = []
        while let first = text.first {
            if first == "@" || first == "$" { text.removeFirst(); continue }
            if first == "." {
                text.removeFirst()
                if text.first == "*" { text.removeFirst(); steps.append(.all); continue }
                let name = text.prefix { $0.isLetter || $0.isNumber || "_-/".contains($0) }
                guard !name.isEmpty else { return nil }
                text.removeFirst(name.count)
                steps.append(.field(String(name)))
            } else if first == "[" {
                text.removeFirst()
                guard let step = bracket(&text), text.first == "]" else { return nil }
                text.removeFirst()
                steps.append(step)
            } else {
                break
            }
        }
        return steps
    }

    private static func bracket(_ text: inout Substring) -> Step? {
        if text.first == "*" { text.removeFirst(); return .all }
        if text.first == "'" || text.first == "\"" { return quoted(&text).map(Step.field) }
        if text.hasPrefix("?(") {
            text.removeFirst(2)
            guard let path = parse(&text) else { return nil }
            text = text.drop { $0 == " " }
            var op: String?
            var literal: JSON?
            for candidate in ["==", "!=", "<=", ">=", "<", ">"] where text.hasPrefix(candidate) {
                op = candidate
                text.removeFirst(candidate.count)
                text = text.drop { $0 == " " }
                guard let value = self.literal(&text) else { return nil }
                literal = value
                break
            }
            text = text.drop { $0 == " " }
            guard text.first == ")" else { return nil }
            text.removeFirst()
            return .filter(path: path, op: op, literal: literal)
        }
        let digits = text.prefix { $0 == "-" || $0.isNumber }
        guard let index = Int(digits) else { return nil }
        text.removeFirst(digits.count)
        return .index(index)
    }

    private static func literal(_ text: inout Substring) -> JSON? {
        if text.first == "'" || text.first == "\"" { return quoted(&text).map(JSON.string) }
        let word = text.prefix { !$0.isWhitespace && $0 != ")" }
        text.removeFirst(word.count)
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            if let integer = Int(word) { return .int(integer) }
            return Double(word) != nil ? .number(String(word)) : nil
        }
    }

    /// A '…' or "…" string at the start of the text, consumed.
    private static func quoted(_ text: inout Substring) -> String? {
        guard let quote = text.first else { return nil }
        text.removeFirst()
        guard let end = text.firstIndex(of: quote) else { return nil }
        let value = String(text[..<end])
        text = text[text.index(after: end)...]
        return value
    }
}
