import Foundation
import Model

/// What a runner reports when it ends, as JSON in its termination message (`/dev/termination-log`): see specs/runner.md.
public struct RunnerSummary: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable, CaseIterable {
        case success, failure
        /// The runner stopped its agent at the session's deadline.
        case deadlineExceeded = "deadline-exceeded"
        /// The runner stopped its agent when the session's budget was spent.
        case budgetExceeded = "budget-exceeded"
    }

    public struct Usage: Sendable, Hashable {
        public var inputTokens: Int
        public var outputTokens: Int
        /// What the run cost as the framework counted it, when it can tell.
        public var cost: Amount?
        public init(inputTokens: Int = 0, outputTokens: Int = 0, cost: Amount? = nil) {
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cost = cost
        }
    }

    public var result: Result
    public var summary: String
    public var usage: Usage
    /// Names of the artifacts the runner uploaded.
    public var artifacts: [String]

    public init(result: Result, summary: String, usage: Usage = Usage(), artifacts: [String] = []) {
        self.result = result
        self.summary = summary
        self.usage = usage
        self.artifacts = artifacts
    }

    /// Kubernetes keeps at most 4096 bytes of a termination message.
    public static let maxBytes = 4096
    public static let maxSummaryCharacters = 1024

    public var json: JSON {
        var usage: JSONObject = ["inputTokens": .int(self.usage.inputTokens), "outputTokens": .int(self.usage.outputTokens)]
        if let cost = self.usage.cost { usage["cost"] = .string(cost.description) }
        return ["result": .string(result.rawValue), "summary": .string(summary), "usage": .object(usage),
                "artifacts": .strings(artifacts)]
    }

    /// The message as written: compact JSON within `maxBytes`. A summary too long is cut (on a character boundary)
    /// and the artifact list shortened, so the essentials always fit.
    public var terminationMessage: String {
        var copy = self
        if copy.summary.count > RunnerSummary.maxSummaryCharacters {
            copy.summary = String(copy.summary.prefix(RunnerSummary.maxSummaryCharacters - 1)) + "…"
        }
        while copy.json.compactBytes.count > RunnerSummary.maxBytes {
            if !copy.artifacts.isEmpty { copy.artifacts.removeLast() } else { copy.summary = String(copy.summary.prefix(copy.summary.count / 2)) }
        }
        return copy.json.compactText
    }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String {
            "runner summary: \(field.isEmpty ? "" : field + ": ")\(message) (see specs/runner.md for the termination message format)"
        }
    }

    /// Parses a termination message. Strict: unknown fields, wrong types and out-of-range values are errors that
    /// name the field, since a runner that writes them has a bug its author should see.
    public init(terminationMessage text: String) throws(ParseError) {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ParseError(field: "", message: "the termination message is empty: the runner wrote no summary")
        }
        guard text.utf8.count <= RunnerSummary.maxBytes else {
            throw ParseError(field: "", message: "the termination message is \(text.utf8.count) bytes, more than the \(RunnerSummary.maxBytes) Kubernetes keeps")
        }
        let json: JSON
        do { json = try JSON(parsing: text) } catch { throw ParseError(field: "", message: error.description) }
        guard let object = json.objectValue else { throw ParseError(field: "", message: "expected a JSON object") }
        let known = ["result", "summary", "usage", "artifacts"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw ParseError(field: unknown, message: "unknown field (known: \(known.joined(separator: ", ")))")
        }
        guard let resultText = object["result"]?.stringValue else {
            throw ParseError(field: "result", message: "Required value: one of \(Result.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let result = Result(rawValue: resultText) else {
            throw ParseError(field: "result", message: "Unsupported value: \"\(resultText)\": supported values: \(Result.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        var summary = ""
        if let value = object["summary"] {
            guard let text = value.stringValue else { throw ParseError(field: "summary", message: "expected a string") }
            guard text.count <= RunnerSummary.maxSummaryCharacters else {
                throw ParseError(field: "summary", message: "Too long: may not be more than \(RunnerSummary.maxSummaryCharacters) characters")
            }
            summary = text
        }
        var usage = Usage()
        if let value = object["usage"] {
            guard let fields = value.objectValue else { throw ParseError(field: "usage", message: "expected an object") }
            if let unknown = fields.keys.first(where: { !["inputTokens", "outputTokens", "cost"].contains($0) }) {
                throw ParseError(field: "usage.\(unknown)", message: "unknown field (known: inputTokens, outputTokens, cost)")
            }
            func tokens(_ key: String) throws(ParseError) -> Int {
                guard let value = fields[key] else { return 0 }
                guard case .int(let count) = value, count >= 0 else {
                    throw ParseError(field: "usage.\(key)", message: "expected a whole number of tokens, 0 or more")
                }
                return count
            }
            usage.inputTokens = try tokens("inputTokens")
            usage.outputTokens = try tokens("outputTokens")
            if let cost = fields["cost"] {
                guard let text = cost.stringValue, let amount = Amount(text) else {
                    throw ParseError(field: "usage.cost", message: "expected a decimal string such as \"1.25\" (up to six decimals)")
                }
                usage.cost = amount
            }
        }
        var artifacts: [String] = []
        if let value = object["artifacts"] {
            guard let items = value.arrayValue else { throw ParseError(field: "artifacts", message: "expected an array of names") }
            for (index, item) in items.enumerated() {
                guard let name = item.stringValue, !name.isEmpty else {
                    throw ParseError(field: "artifacts[\(index)]", message: "expected an artifact name")
                }
                artifacts.append(name)
            }
        }
        self.init(result: result, summary: summary, usage: usage, artifacts: artifacts)
    }
}
