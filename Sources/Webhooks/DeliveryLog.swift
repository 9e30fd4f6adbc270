import Foundation
import Model
import Support

/// The log lines of the delivery path: ids and outcomes only (specs/webhooks.md). Nothing a payload can
/// choose reaches a line as text: an event name is printed only when it has the shape of a protocol name
/// (`issues.labeled`, `jira:issue_updated`, `app_mention`), a delivery id only when it is an id's characters
/// (else its hash stands in), and route keys, commands, labels, authors and reasons are never printed.
public enum DeliveryLog {
    /// Where the lines go: a level (an outcome is info; a retry, a refusal or a plan not posted is a warning; a
    /// Session that cannot be created is an error) and the line itself, without a trailing newline.
    public typealias Sink = @Sendable (_ level: Log.Level, _ line: String) -> Void

    public static func line(_ source: WebhookSource, event: String?, delivery: String?, trace: String, _ outcome: String) -> String {
        var text = "webhook source=\(source.rawValue)"
        if let event { text += " event=\(self.event(source, event))" }
        if let delivery { text += " delivery=\(id(delivery))" }
        return text + " trace=\(trace) \(outcome)"
    }

    /// `issues.labeled`, `pull_request`, `jira:issue_updated`, `app_mention`; a slash command is `slash_command`
    /// (its name is the tenant's), a generic event `request`; anything else `other`.
    static func event(_ source: WebhookSource, _ name: String) -> String {
        switch source {
        case .generic: return "request"
        case .slack where name.hasPrefix("/"): return "slash_command"
        default: break
        }
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return "other" }
        let word: (UInt8) -> Bool = { (97...122).contains($0) || $0 == UInt8(ascii: "_") }
        let separators = bytes.filter { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }.count
        guard separators <= 1, word(bytes[0]), word(bytes[bytes.count - 1]),
              bytes.allSatisfy({ word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }) else { return "other" }
        return name
    }

    /// The id as sent when it is made of id characters (letters, digits, `.`, `-`, `_`, `:`; at most 128),
    /// else `sha256:` and the first 16 hex digits of its hash, so one delivery can still be followed.
    static func id(_ value: String) -> String {
        let bytes = Array(value.utf8)
        let plain = (1...128).contains(bytes.count) && bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
        }
        return plain ? value : "sha256:" + Crypto.sha256Hex(bytes).prefix(16)
    }
}
