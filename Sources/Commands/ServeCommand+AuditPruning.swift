import Audit
import Foundation
import Model
import Support
import Synchronization
import Webhooks

/// `serve` prunes its audit trail on a schedule, by the rule `tenantry audit prune` uses (`AuditRetention`):
/// `--audit-retention` when given, else the longest `retention.auditLogs` of the tenant table's namespaces (the
/// design default 7y when it has none). With --reconcile nothing is pruned before the first table, whose policies
/// are not known until then. A pass at start, then every `--audit-prune-interval` (default 1h); what remains
/// still verifies (`tenantry audit verify`), from the anchor the prune keeps.
extension ServeCommand {
    struct AuditPruneFlags {
        var retention: AuditRetention?
        var interval: TimeInterval = 3600
    }

    static let auditPruneValued = ["--audit-retention", "--audit-prune-interval"]

    static func parseAuditPruning(_ args: Arguments) throws(UsageError) -> AuditPruneFlags {
        var flags = AuditPruneFlags()
        if let text = args.value("--audit-retention") {
            guard let retention = AuditRetention(text: text, source: "--audit-retention") else {
                throw UsageError("--audit-retention must be a duration such as 90d or 7y, got \"\(text)\"")
            }
            flags.retention = retention
        }
        if let text = args.value("--audit-prune-interval") {
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                throw UsageError("--audit-prune-interval must be a duration such as 1h or 30m, got \"\(text)\"")
            }
            flags.interval = TimeInterval(seconds)
        }
        return flags
    }
}

/// Prunes an audit trail every `interval` on its own queue (the trail's lock orders it with the appends).
final class AuditPruner: Sendable {
    private let audit: AuditLog
    private let interval: TimeInterval
    private let retention: @Sendable () -> AuditRetention?
    private let clock: @Sendable () -> Date
    private let log: @Sendable (String) -> Void
    private let stopped = Atomic(false)
    private let queue = DispatchQueue(label: "tenantry.serve.audit-prune")

    /// `retention`: what the trail keeps now; nil while it is not known (nothing is pruned then).
    init(audit: AuditLog, interval: TimeInterval, retention: @escaping @Sendable () -> AuditRetention?,
         clock: @escaping @Sendable () -> Date = { Date() }, log: @escaping @Sendable (String) -> Void) {
        self.audit = audit
        self.interval = interval
        self.retention = retention
        self.clock = clock
        self.log = log
    }

    /// A pass now, then one every interval until `stop`.
    func start() { queue.async { [self] in tick() } }

    func stop() { stopped.store(true, ordering: .releasing) }

    private func tick() {
        guard !stopped.load(ordering: .acquiring) else { return }
        prune()
        queue.asyncAfter(deadline: .now() + interval) { [self] in tick() }
    }

    /// One pass: how many entries went (nil: no retention known yet, or the trail could not be pruned, which is logged).
    @discardableResult
    func prune() -> Int? {
        guard let retention = retention() else { return nil }
        let now = clock()
        do {
            let removed = try audit.prune(retention, now: now)
            if removed > 0 {
                log("audit: pruned \(removed) entr\(removed == 1 ? "y" : "ies") from before \(Timestamp.rfc3339(retention.cutoff(now: now))), older than \(retention)")
            }
            return removed
        } catch {
            log("audit: the trail \(audit.path) could not be pruned: \(error); the next pass (in \(DurationText.format(.seconds(Int64(interval))))) tries again")
            return nil
        }
    }
}

extension ServeCommand {
    /// serve's pruner: the flag's retention, else the current tenant table's policies.
    static func auditPruner(_ flags: Flags, audit: AuditLog, server: WebhookServer, log: @escaping @Sendable (String) -> Void) -> AuditPruner {
        let explicit = flags.api.auditPruning.retention
        let service = server.service
        return AuditPruner(audit: audit, interval: flags.api.auditPruning.interval, retention: {
            explicit ?? service.tenantTable.map { table in AuditRetention(policies: table.policies.values.map(\.policy.retention.auditLogs)) }
        }, log: { log($0 + "\n") })
    }
}
