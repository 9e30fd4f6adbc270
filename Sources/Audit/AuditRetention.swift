import Foundation
import Model
import Support

/// How long the audit trail keeps its entries: one rule for `tenantry audit prune` and `serve`'s schedule.
/// The trail is one hash chain for every namespace, and pruning removes a prefix of it (so the rest still verifies),
/// so an entry may go only once the longest of the namespaces' `retention.auditLogs` has passed; an explicit
/// retention (the commands' flags) replaces the policies'.
public struct AuditRetention: Sendable, Hashable, CustomStringConvertible {
    /// The design default of `retention.auditLogs` (specs/tenant-repo.md).
    public static let defaultRetention = TimeSpan("7y")!

    public let seconds: Int64
    /// As written (`7y`, `90d`).
    public let text: String
    /// Where it comes from, for the log: a flag, the policies, or the default.
    public let source: String

    /// A duration given explicitly (`--older-than`, `--audit-retention`); nil unless it is one (`30d`, `7y`) and more than 0.
    public init?(text: String, source: String) {
        guard let seconds = DurationText.seconds(text), seconds > 0 else { return nil }
        self.seconds = seconds
        self.text = text
        self.source = source
    }

    /// The longest of the namespaces' retentions; the default when there are none.
    public init(policies: [TimeSpan]) {
        let longest = policies.max() ?? Self.defaultRetention
        seconds = longest.seconds
        text = longest.text
        source = policies.isEmpty ? "the default retention.auditLogs: no namespaces"
            : "the longest retention.auditLogs of \(policies.count) namespace\(policies.count == 1 ? "" : "s")"
    }

    /// Entries from before this go.
    public func cutoff(now: Date) -> Date { now.addingTimeInterval(-TimeInterval(seconds)) }

    public var description: String { "\(text) (\(source))" }
}

extension AuditLog {
    /// Prunes what `retention` no longer keeps at `now` (`prune(before:)`: the prefix older than the cutoff, the last
    /// removed entry's hash kept as the anchor). Returns how many entries went.
    @discardableResult
    public func prune(_ retention: AuditRetention, now: Date = Date()) throws(SQLiteError) -> Int {
        try prune(before: retention.cutoff(now: now), now: now)
    }
}
