import Model

/// The words of an origin answer, from the stored body: the phase, the summary, the cost and the links.
/// Summaries come from the session (an agent wrote them), so each platform's markup is escaped.
struct OriginMessage {
    let session: String
    let phase: String
    let event: String
    let summary: String
    let cost: String?
    let ui: String?

    init(body: JSON) {
        session = body["session"]?.stringValue ?? ""
        phase = body["phase"]?.stringValue ?? ""
        event = body["event"]?.stringValue ?? ""
        summary = body["summary"]?.stringValue ?? ""
        if let amount = body["cost"]?["amount"] {
            let text: String
            if case .number(let digits) = amount { text = digits } else { text = amount.stringValue ?? "" }
            cost = [text, body["cost"]?["currency"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        } else {
            cost = nil
        }
        ui = body["links"]?["ui"]?.stringValue
    }

    var headline: String { event == "approval.required" ? "\(phase), waiting for approval" : phase }

    static func marker(_ session: String) -> String { "<!-- tenantry-session: \(session) -->" }

    /// GitHub Markdown; the hidden marker first, so the comment is found again.
    var markdown: String {
        var lines = [Self.marker(session), "**Tenantry session `\(session)`: \(headline)**"]
        if !summary.isEmpty { lines += ["", Self.escapeMarkdown(summary)] }
        var facts: [String] = []
        if let cost { facts.append("Cost: \(cost)") }
        if let ui { facts.append("[Log and artifacts](\(ui))") }
        if !facts.isEmpty { lines += ["", facts.joined(separator: " · ")] }
        return lines.joined(separator: "\n")
    }

    /// Slack mrkdwn, escaped as Slack asks (`&`, `<`, `>`).
    var slackText: String {
        var text = "*Tenantry session `\(Self.escapeSlack(session))`: \(Self.escapeSlack(headline))*"
        if !summary.isEmpty { text += "\n" + Self.escapeSlack(summary) }
        if let cost { text += "\nCost: \(Self.escapeSlack(cost))" }
        if let ui { text += "\n<\(ui)|Log and artifacts>" }
        return text
    }

    /// Plain text for Jira's ADF (no markup to escape).
    var plainText: String {
        var text = "Tenantry session \(session): \(headline)"
        if !summary.isEmpty { text += "\n" + summary }
        if let cost { text += "\nCost: \(cost)" }
        if let ui { text += "\nLog and artifacts: \(ui)" }
        return text
    }

    /// No HTML (so no forged marker comment) and no mentions pinging people.
    static func escapeMarkdown(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "@", with: "@\u{200B}")
    }

    static func escapeSlack(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
