import Model

/// The words after a subcommand, split into flags and positionals: the one command-line parser every command
/// uses. `--flag value`, `--flag=value` and `-o value` are accepted; a flag not declared is a usage error
/// with a suggestion; `--` ends the flags.
public struct Arguments: Sendable {
    public private(set) var positionals: [String] = []
    private var values: [String: [String]] = [:]
    private var switches: Set<String> = []

    /// `valued` flags take a value; `switches` do not. Short aliases map to long names (`-o` → `--output`).
    public init(_ words: [String], valued: [String], switches known: [String] = [], aliases: [String: String] = [:]) throws(UsageError) {
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" {
                positionals += words[index...]
                break
            }
            guard word.hasPrefix("-"), word != "-" else {
                positionals.append(word)
                continue
            }
            var name = word
            var inline: String?
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inline = String(word[word.index(after: equals)...])
            }
            name = aliases[name] ?? name
            if valued.contains(name) {
                if let inline {
                    values[name, default: []].append(inline)
                } else {
                    guard index < words.count else { throw UsageError("flag \(name) needs a value") }
                    values[name, default: []].append(words[index])
                    index += 1
                }
            } else if known.contains(name) {
                guard inline == nil else { throw UsageError("flag \(name) takes no value") }
                switches.insert(name)
            } else {
                var message = "unknown flag \(name)"
                if let guess = Suggest.closest(to: name, among: valued + known) { message += " (did you mean \(guess)?)" }
                throw UsageError(message)
            }
        }
    }

    /// The flag's value; the last one when it was given several times.
    public func value(_ flag: String) -> String? { values[flag]?.last }
    /// Every value of a flag that may be repeated, in order.
    public func values(_ flag: String) -> [String] { values[flag] ?? [] }
    public func isSet(_ flag: String) -> Bool { switches.contains(flag) }

    /// The value of a flag that must be one of `choices`.
    public func choice<T: RawRepresentable>(_ flag: String, default fallback: T, _ choices: [T]) throws(UsageError) -> T where T.RawValue == String {
        guard let text = values[flag]?.last else { return fallback }
        guard let value = T(rawValue: text) else {
            throw UsageError("flag \(flag) must be one of \(choices.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return value
    }

    /// The value of a flag that must be a whole number above zero.
    public func positive(_ flag: String, default fallback: Int) throws(UsageError) -> Int {
        guard let text = values[flag]?.last else { return fallback }
        guard let value = Int(text), value > 0 else { throw UsageError("\(flag) must be a positive whole number, got \"\(text)\"") }
        return value
    }

    /// At most `count` positionals.
    public func positionals(max count: Int, usage: String) throws(UsageError) -> [String] {
        guard positionals.count <= count else {
            throw UsageError("unexpected argument \"\(positionals[count])\"; usage: \(usage)")
        }
        return positionals
    }
}
