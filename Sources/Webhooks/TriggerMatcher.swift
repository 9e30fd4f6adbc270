import Foundation
import Model

/// Decides whether an event starts a session under a namespace's trigger rules (copied from the tenant
/// file into every NamespacePolicy). A source without rules starts nothing.
public enum TriggerMatcher {
    public struct Match: Sendable, Hashable {
        /// Which rule matched, e.g. `issue labelled "agent"`.
        public let rule: String
        /// The model and tools asked for in the command text (`/agent model=claude-opus-4-1 tools=git,shell …`).
        public let model: String?
        public let tools: [String]?
        /// The kind of trigger (`label`, `transition`, `comment`, `pull request`, `mention`): with the event's
        /// subject, the intent that starts one session per intent window.
        public var kind: String = "request"
    }

    /// nil: nothing matched; `reason` then says why, for the `ignored` answer.
    public static func match(_ event: InboundEvent, triggers: Triggers) -> (match: Match?, reason: String) {
        if let bot = event.bot {
            let allowed = event.source == .github ? triggers.github?.allowBots : event.source == .slack ? triggers.slack?.allowBots : nil
            guard let allowed, allowed.contains(bot) else {
                let field = event.source == .slack ? "triggers.slack.allowBots" : "triggers.github.allowBots"
                return (nil, "the sender is a bot\(bot.isEmpty ? "" : " (\(bot))"); bots start sessions only when the tenant lists them in \(field)")
            }
        }
        var (found, reason) = matchFacts(event, triggers: triggers)
        if found != nil, let kind = kind(of: event.facts) { found!.kind = kind }
        return (found, reason)
    }

    /// nil: the kind depends on the rule (Jira), and matchFacts set it.
    private static func kind(of facts: InboundEvent.Facts) -> String? {
        switch facts {
        case .githubIssue: "label"
        case .githubComment: "comment"
        case .githubPullRequest: "pull request"
        case .jira: nil
        case .slackMention: "mention"
        case .slackCommand: "slash command"
        case .generic, .other, .transferredIssue: "request"
        }
    }

    private static func matchFacts(_ event: InboundEvent, triggers: Triggers) -> (match: Match?, reason: String) {
        switch event.facts {
        case .githubIssue(let action, let labels, let added):
            guard let rules = triggers.github else { return (nil, "the tenant has no GitHub triggers") }
            if action == "labeled", let added, rules.issueLabels.contains(added) {
                return (Match(rule: "issue labelled \"\(added)\"", model: nil, tools: nil), "")
            }
            if action == "opened", let label = labels.first(where: rules.issueLabels.contains) {
                return (Match(rule: "issue opened with label \"\(label)\"", model: nil, tools: nil), "")
            }
            return (nil, "no trigger label on this issue event")
        case .githubComment(let action, let body, let association):
            guard let rules = triggers.github, let command = rules.commentCommand else {
                return (nil, "the tenant has no GitHub comment trigger")
            }
            guard action == "created" else { return (nil, "only new comments start sessions") }
            guard let rest = commandText(body, command: command) else {
                return (nil, "the comment does not start with \(command)")
            }
            guard rules.commentAuthorAssociations.contains(association) else {
                return (nil, "comment author association \(association) may not start sessions")
            }
            let options = parseOptions(rest)
            return (Match(rule: "comment \(command) by \(association)", model: options.model, tools: options.tools), "")
        case .githubPullRequest(let action):
            guard let rules = triggers.github else { return (nil, "the tenant has no GitHub triggers") }
            guard rules.pullRequestActions.contains(action) else { return (nil, "pull request \(action) is not a trigger") }
            return (Match(rule: "pull request \(action)", model: nil, tools: nil), "")
        case .jira(_, let added, let transition):
            guard let rules = triggers.jira else { return (nil, "the tenant has no Jira triggers") }
            if let label = added.first(where: rules.labels.contains) {
                return (Match(rule: "Jira label \"\(label)\" added", model: nil, tools: nil, kind: "label"), "")
            }
            if let transition, rules.transitions.contains(transition) {
                return (Match(rule: "Jira transition \"\(transition)\"", model: nil, tools: nil, kind: "transition"), "")
            }
            return (nil, "no trigger label added and no trigger transition")
        case .slackMention(let text):
            guard let rules = triggers.slack, rules.mention else { return (nil, "the tenant does not start sessions on Slack mentions") }
            let options = parseOptions(text)
            return (Match(rule: "Slack mention", model: options.model, tools: options.tools), "")
        case .slackCommand(let command, let text):
            guard let rules = triggers.slack, let expected = rules.slashCommand else {
                return (nil, "the tenant has no Slack slash command")
            }
            guard command == expected else { return (nil, "slash command \(command) is not \(expected)") }
            let options = parseOptions(text)
            return (Match(rule: "Slack \(command)", model: options.model, tools: options.tools), "")
        case .generic:
            return (Match(rule: "generic request", model: event.requestedModel, tools: event.requestedTools), "")
        case .transferredIssue:
            return (nil, "the issue was transferred from another repository: it is the same issue, so it starts no second session")
        case .other:
            return (nil, "\(event.event) events never start sessions")
        }
    }

    /// The text after `command` when `body` starts with it as a whole word (leading whitespace allowed).
    static func commandText(_ body: String, command: String) -> String? {
        let trimmed = body.drop { $0.isWhitespace }
        guard trimmed.hasPrefix(command) else { return nil }
        let rest = trimmed.dropFirst(command.count)
        guard rest.isEmpty || rest.first!.isWhitespace else { return nil }
        return String(rest)
    }

    /// `model=NAME` and `tools=a,b` words anywhere in the command text.
    static func parseOptions(_ text: String) -> (model: String?, tools: [String]?) {
        var model: String?
        var tools: [String]?
        for word in text.split(whereSeparator: \.isWhitespace) {
            if word.hasPrefix("model=") { model = String(word.dropFirst(6)) }
            if word.hasPrefix("tools=") { tools = word.dropFirst(6).split(separator: ",").map(String.init) }
        }
        return (model, tools)
    }
}
