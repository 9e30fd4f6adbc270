import Model
import Render
import Support

/// Finds where a value stands in the tenant files of one side, so a guardrail can point at file, line
/// and field. The model keeps no positions; the parsed YAML (`LoadedRepo`) does.
struct Locator: Sendable {
    /// A place: the position and the dotted field path (`members[3].role`).
    struct Place: Sendable, Hashable {
        let mark: SourceMark?
        let field: String
    }

    private let roots: [String: YAMLNode]

    init(_ repo: LoadedRepo?) {
        var roots: [String: YAMLNode] = [:]
        for file in repo?.tenants ?? [] { if let root = file.root { roots[file.path] = root } }
        if let platform = repo?.platform, let root = platform.root { roots[platform.path] = root }
        self.roots = roots
    }

    /// A dotted path of mapping keys (`policy.budget.monthly`); where a key is absent (a default), the deepest
    /// mapping that exists.
    func field(_ file: String, _ path: String) -> Place {
        guard var node = roots[file] else { return Place(mark: nil, field: path) }
        var walked: [String] = []
        for key in path.split(separator: ".").map(String.init) {
            guard let next = Locator.value(node, key) else { break }
            node = next
            walked.append(key)
        }
        return Place(mark: node.mark, field: walked.joined(separator: "."))
    }

    /// The item of list `path` whose scalar value is `value`; else the list (or its deepest parent).
    func item(_ file: String, _ path: String, equal value: String) -> Place {
        let list = field(file, path)
        guard list.field == path, let node = node(file, path), case .sequence(let items) = node.content else { return list }
        for (index, item) in items.enumerated() where Locator.text(item) == value {
            return Place(mark: item.mark, field: "\(path)[\(index)]")
        }
        return list
    }

    /// In list `path` of mappings, the entry whose `key` is `value`, then its field `leaf` (or the key itself).
    func entry(_ file: String, _ path: String, key: String, equal value: String, leaf: String? = nil,
               compare: (String, String) -> Bool = { $0 == $1 }) -> Place {
        let list = field(file, path)
        guard list.field == path, let node = node(file, path), case .sequence(let items) = node.content else { return list }
        for (index, item) in items.enumerated() {
            guard let keyNode = Locator.value(item, key), let text = Locator.text(keyNode), compare(text, value) else { continue }
            if let leaf, let leafNode = Locator.value(item, leaf) {
                return Place(mark: leafNode.mark, field: "\(path)[\(index)].\(leaf)")
            }
            return Place(mark: keyNode.mark, field: "\(path)[\(index)].\(key)")
        }
        return list
    }

    private func node(_ file: String, _ path: String) -> YAMLNode? {
        guard var node = roots[file] else { return nil }
        for key in path.split(separator: ".").map(String.init) {
            guard let next = Locator.value(node, key) else { return nil }
            node = next
        }
        return node
    }

    private static func value(_ node: YAMLNode, _ key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = node.content, let value = pairs.first(where: { $0.key == key })?.value,
              value.resolved != .null else { return nil }
        return value
    }

    private static func text(_ node: YAMLNode) -> String? {
        if case .scalar(let text, _) = node.content { return text }
        return nil
    }
}
