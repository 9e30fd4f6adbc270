import Foundation
import Model
import Sessions

/// The command a framework runs for a session: the registry of frameworks the reference runner knows.
public struct AgentCommand: Sendable, Hashable {
    public var arguments: [String]
    /// Added to the runner's environment for the agent alone (the model key read from its mounted file).
    public var environment: [String: String]

    public struct Unsupported: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
    }

    /// Tenantry's tool names → Claude Code's `--allowedTools` entries.
    static let claudeTools: [String: [String]] = [
        "git": ["Bash(git:*)"], "shell": ["Bash"], "file-edit": ["Read", "Edit", "Write", "Glob", "Grep"],
        "web-fetch": ["WebFetch"], "github-api": ["Bash(gh:*)"],
    ]

    /// - `claude-code`: the Claude Code CLI, non-interactive (`-p`), with the session's model and allowed tools,
    ///   streaming JSON so the runner can follow usage.
    /// - `script`: `framework.config.command`, run by `/bin/sh -c` (the examples and the tests use it).
    public static func build(for file: SessionFile, modelAPIKey: String?) throws(Unsupported) -> AgentCommand {
        switch file.framework.type {
        case "claude-code":
            var arguments = ["claude", "-p", prompt(file), "--model", file.model, "--output-format", "stream-json", "--verbose"]
            let tools = file.allowedTools.flatMap { claudeTools[$0] ?? [] }
            if !tools.isEmpty { arguments += ["--allowedTools", tools.joined(separator: ",")] }
            var environment: [String: String] = [:]
            if let modelAPIKey { environment["ANTHROPIC_API_KEY"] = modelAPIKey }
            return AgentCommand(arguments: arguments, environment: environment)
        case "script":
            guard let command = file.framework.config["command"]?.stringValue, !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Unsupported(description: "framework \"script\" needs framework.config.command (a shell command); the session has none")
            }
            return AgentCommand(arguments: ["/bin/sh", "-c", command], environment: [:])
        default:
            throw Unsupported(description: "this runner does not know framework \"\(file.framework.type)\" (it runs: claude-code, script)")
        }
    }

    /// What the agent is asked to do: the trigger's title, body and command, with where they came from.
    static func prompt(_ file: SessionFile) -> String {
        let payload = file.trigger.payload
        var lines: [String] = []
        if let repository = payload["repository"]?.stringValue { lines.append("Repository: \(repository)") }
        if let url = payload["url"]?.stringValue { lines.append("Source: \(url)") }
        if let title = payload["title"]?.stringValue { lines.append("Title: \(title)") }
        if let body = payload["body"]?.stringValue, !body.isEmpty { lines += ["", body] }
        if let command = payload["command"]?.stringValue { lines += ["", "Request: \(command)"] }
        if lines.isEmpty { lines.append("Work on the \(file.trigger.source.rawValue) event \(file.trigger.event).") }
        return lines.joined(separator: "\n")
    }
}
