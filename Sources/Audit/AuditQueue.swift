import Foundation
import Support

/// The audit trail's group commit: records wait in order; one committer at a time writes everything waiting
/// in one transaction. An `append` that finds no committer becomes it (and commits until its own record is
/// on disk, then hands on); one that finds a commit in flight waits for the next, which takes it along. Records
/// queued by `appendSoon` are written by a committer thread started for them, which ends when nothing waits.
/// Unchecked Sendable: every field is guarded by `condition`; `log` is only read.
final class AuditQueue: @unchecked Sendable {
    private final class Ticket {
        let record: AuditRecord
        var result: Result<AuditEntry, SQLiteError>?
        init(_ record: AuditRecord) { self.record = record }
    }

    private unowned let log: AuditLog
    private let condition = NSCondition()
    private var pending: [Ticket] = []
    private var committing = false
    /// Appends waiting for their commit, who can take over committing.
    private var waiters = 0
    /// The last commit's failure, until one succeeds.
    private var failing: SQLiteError?

    init(log: AuditLog) { self.log = log }

    func append(_ record: AuditRecord) throws(SQLiteError) -> AuditEntry {
        let ticket = Ticket(record)
        condition.lock()
        pending.append(ticket)
        waiters += 1
        while ticket.result == nil {
            if !committing {
                committing = true
                commitBatches(until: ticket, log: log)
                committing = false
                condition.broadcast()
            } else {
                condition.wait()
            }
        }
        waiters -= 1
        // Records queued meanwhile by appendSoon, with no append waiting to take them along.
        if !pending.isEmpty, !committing, waiters == 0 { startCommitter() }
        condition.unlock()
        return try ticket.result!.get()
    }

    func appendSoon(_ record: AuditRecord) throws(SQLiteError) {
        condition.lock()
        defer { condition.unlock() }
        if let failing { throw failing }
        pending.append(Ticket(record))
        if !committing, waiters == 0 { startCommitter() }
    }

    /// With `condition` locked and `committing` taken: commits what waits, batch by batch, until `ticket` (if any)
    /// is done or nothing waits. The lock is let go while the disk works.
    private func commitBatches(until ticket: Ticket?, log: AuditLog) {
        while !pending.isEmpty, ticket?.result == nil {
            let batch = pending
            pending = []
            condition.unlock()
            let outcome: Result<[AuditEntry], SQLiteError>
            do { outcome = .success(try log.commit(batch.map(\.record))) } catch { outcome = .failure(error) }
            condition.lock()
            switch outcome {
            case .success(let entries):
                failing = nil
                for (waiting, entry) in zip(batch, entries) { waiting.result = .success(entry) }
            case .failure(let error):
                failing = error
                for waiting in batch { waiting.result = .failure(error) }
            }
            condition.broadcast()
        }
    }

    /// With `condition` locked: a thread that commits until nothing waits.
    private func startCommitter() {
        committing = true
        // The log stays alive until what was queued for it is written, even if its owner lets go meanwhile.
        let log = self.log
        let thread = Thread { [self] in
            condition.lock()
            commitBatches(until: nil, log: log)
            committing = false
            condition.broadcast()
            let more = !pending.isEmpty && waiters == 0
            if more { startCommitter() }
            condition.unlock()
        }
        thread.name = "audit-commit"
        thread.start()
    }
}
