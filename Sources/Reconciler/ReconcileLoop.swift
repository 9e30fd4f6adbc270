import Foundation
import GitSync
import Render
import Support

/// Follows a git source and reconciles every revision it fetches: render, apply, status report committed
/// back. GitSync's poller paces it (the interval with jitter) and wakes it at once when a push webhook for the
/// repository arrives in this process. `reconcile --watch` and `serve --reconcile` run it; how a revision is
/// rendered and applied (and printed) is theirs to say, through `reconcile`.
public final class ReconcileLoop: Sendable {
    /// One reconciled revision.
    public struct Round: Sendable {
        public let fetched: FetchResult
        public let rendered: RenderedRepo
        public let result: ReconcileResult
    }

    /// Renders and applies the checked-out tenant repo in a directory.
    public typealias Reconcile = @Sendable (_ directory: String) throws -> (rendered: RenderedRepo, result: ReconcileResult)

    public let source: SourceConfig
    private let poller: SourcePoller
    private let writesStatus: Bool
    private let log: Log
    private let reconcile: Reconcile
    /// Each tenant's Sessions by phase for the status report, read after the apply.
    private let sessionCounts: @Sendable (RenderedRepo) -> [String: SessionCounts]

    /// `writesStatus` false (a dry run) commits no status report.
    public init(source: SourceConfig, writesStatus: Bool, log: Log,
                sessionCounts: @escaping @Sendable (RenderedRepo) -> [String: SessionCounts] = { _ in [:] }, reconcile: @escaping Reconcile) {
        self.sessionCounts = sessionCounts
        self.source = source
        self.poller = SourcePoller(source: Source(config: source))
        self.writesStatus = writesStatus
        self.log = log
        self.reconcile = reconcile
    }

    /// Reconciles now, then after each wait, until `stop()`; `afterRound` sees every revision reconciled.
    /// A failed fetch or render keeps the last good revision in use (and says how old it is).
    public func run(afterRound: @Sendable (Round) -> Void = { _ in }) {
        let interval = source.interval.components
        poller.run { fetched in
            do {
                afterRound(try round(try fetched.get()))
            } catch {
                log.error("\(error)")
            }
            log.info("next reconcile in about \(interval.seconds)s, or at once on a push webhook")
        }
    }

    /// Ends `run` after the round in progress.
    public func stop() { poller.stop() }

    /// Renders and applies a fetched revision, then commits the status report (not on a dry run).
    public func round(_ fetched: FetchResult) throws -> Round {
        log.info("fetch: \(fetched.revision) (\(fetched.changes.count) files changed)")
        let (rendered, result) = try reconcile(fetched.directory)
        if writesStatus {
            let report = Reconciler.statusReport(revision: fetched.revision.description, time: Date(), rendered: rendered, result: result,
                                                 sessions: sessionCounts(rendered))
            switch try StatusWriter(config: source).write(report) {
            case .unchanged(let branch): log.info("status: unchanged on \(branch)")
            case .committed(let commit, let branch, _): log.info("status: committed \(commit) to \(branch)")
            }
        }
        return Round(fetched: fetched, rendered: rendered, result: result)
    }
}
