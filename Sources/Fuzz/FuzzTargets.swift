import Foundation
import LocalCluster
import Model
import Support
import Webhooks

/// What each fuzz target feeds its bytes to. A target returns normally for any input, valid or not; a crash, a
/// trap or a broken invariant (checked with `precondition`) is a finding.
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "yaml": yaml, "json": json, "webhooks": webhooks, "patch": patch,
    ]

    /// The YAML loader every tenant file goes through (limits on depth and aliases included).
    static func yaml(_ bytes: [UInt8]) {
        guard let documents = try? YAML.parseDocuments(bytes) else { return }
        _ = documents.map { $0.resolved }
    }

    /// Model's JSON parser; what it accepts serialises and parses back to the same value.
    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSON(parsing: Data(bytes)) else { return }
        let again = try? JSON(parsing: Data(value.compactBytes))
        precondition(again == value, "JSON does not survive compactText: \(value.compactText)")
    }

    /// The webhook body parsers. The first byte picks the source: g GitHub, j Jira, s Slack event, c Slack slash
    /// command (form fields), anything else the generic webhook; the rest is the body.
    static func webhooks(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let body = Data(bytes.dropFirst())
        if selector == UInt8(ascii: "c") {
            guard let form = try? EventParser.formFields(body) else { return }
            _ = try? EventParser.slackCommand(form: form)
            return
        }
        guard let object = try? EventParser.parseJSON(body) else { return }
        switch selector {
        case UInt8(ascii: "g"):
            for event in ["issues", "issue_comment", "pull_request", "push", "ping"] {
                _ = EventParser.github(event: event, deliveryID: "fuzz", body: object)
            }
        case UInt8(ascii: "j"): _ = try? EventParser.jira(deliveryID: "fuzz", body: object)
        case UInt8(ascii: "s"): _ = try? EventParser.slackEvent(body: object)
        default: _ = try? EventParser.generic(deliveryID: "fuzz", body: object)
        }
    }

    /// The local cluster's patch decoding: the first line is the stored object, the rest the patch, applied as a
    /// JSON merge patch and as a strategic merge patch.
    static func patch(_ bytes: [UInt8]) {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        guard let target = try? JSON(parsing: Data(bytes[..<newline])),
              let patch = try? JSON(parsing: Data(bytes[min(newline + 1, bytes.endIndex)...])) else { return }
        _ = PatchDecoding.mergePatch(patch, onto: target)
        _ = PatchDecoding.strategicMergePatch(patch, onto: target)
    }
}

extension FuzzTargets {
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
