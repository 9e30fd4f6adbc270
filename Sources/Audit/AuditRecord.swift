import Foundation
import Model
import Support

/// One thing that happened to a Session, as the audit trail keeps it.
public struct AuditRecord: Sendable, Hashable {
    public var timestamp: Date
    public var namespace: String
    /// The Session's name; empty for calls about no one session (a list).
    public var session: String
    /// The authenticated user (or the webhook source and sender for an admission decision).
    public var actor: String
    /// create, view, list, update, stop, approve, reject, rerun, delete, admit, refuse.
    public var action: String
    /// What was acted on, e.g. `sessions`, `sessions/logs`.
    public var resource: String
    /// allowed, denied, succeeded, failed, admitted, refused.
    public var outcome: String
    /// Anything else worth keeping (the rule that refused, the approval's reason). Never a token.
    public var details: JSONObject
    public var traceID: String

    public init(timestamp: Date = Date(), namespace: String, session: String = "", actor: String, action: String, resource: String = "sessions",
                outcome: String, details: JSONObject = [:], traceID: String = "") {
        self.timestamp = timestamp
        self.namespace = namespace
        self.session = session
        self.actor = actor
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.details = details
        self.traceID = traceID
    }
}

/// A record as stored: its place in the chain and the hashes that link it to the one before.
public struct AuditEntry: Sendable, Hashable {
    public var sequence: Int64
    public var record: AuditRecord
    /// The hash of the entry before (the anchor's for the first kept entry; 64 zeros for the very first).
    public var previousHash: String
    /// SHA-256 over the previous hash and this entry's canonical JSON.
    public var hash: String

    /// The contract's AuditEntry, and the JSON line written to stdout.
    public var json: JSON {
        var object = AuditChain.canonical(sequence: sequence, record)
        object["hash"] = .string(hash)
        return .object(object)
    }
}

/// How entries are hashed, in one place for appending and verifying.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)

    /// Fixed key order, so the same entry always hashes the same.
    static func canonical(sequence: Int64, _ record: AuditRecord) -> JSONObject {
        var object: JSONObject = ["sequence": .int(Int(sequence)), "timestamp": .string(AuditTime.format(record.timestamp)),
                                  "namespace": .string(record.namespace)]
        if !record.session.isEmpty { object["session"] = .string(record.session) }
        object["actor"] = .string(record.actor)
        object["action"] = .string(record.action)
        object["resource"] = .string(record.resource)
        object["outcome"] = .string(record.outcome)
        object["details"] = .object(record.details)
        if !record.traceID.isEmpty { object["traceId"] = .string(record.traceID) }
        return object
    }

    static func hash(previous: String, canonicalText: String) -> String {
        Crypto.sha256Hex(Array((previous + "\n" + canonicalText).utf8))
    }
}

/// RFC 3339 with milliseconds, UTC: sortable as text.
enum AuditTime {
    static func format(_ date: Date) -> String { Timestamp.iso8601(fractionalSeconds: true).string(from: date) }

    static func parse(_ text: String) -> Date? { Timestamp.iso8601(fractionalSeconds: true).date(from: text) }
}
