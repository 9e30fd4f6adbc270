import Apply
import Foundation
import GitSync
import Render

/// Follows a git source and reconciles every revision it fetches: render, apply, status report committed
/// back. GitSync's poller paces it (the interval with jitter) and wakes it at once when a push webhook for the
/// repository arrives in this process. `reconcile --watch` and `serve --reconcile` run it.
public final class ReconcileLoop: Sendable {
    /// One reconciled revision.
    public struct Round: Sendable {
        public let fetched: FetchResult
        public let rendered: RenderedRepo
        /// As `tenantry apply` exits: 0 converged, 1 invalid tenants or failed objects, 2 refused prune.
        public let code: Int32
    }

    public let source: SourceConfig
    private let poller: SourcePoller
    private let client: KubeClient
    private let options: ReconcileOptions
    private let inventoryNamespace: String
    private let log: Log
    private let stdout: @Sendable (String) -> Void

    init(source: SourceConfig, client: KubeClient, options: ReconcileOptions, inventoryNamespace: String, log: Log,
         stdout: @escaping @Sendable (String) -> Void) {
        self.source = source
        self.poller = SourcePoller(source: Source(config: source))
        self.client = client
        self.options = options
        self.inventoryNamespace = inventoryNamespace
        self.log = log
        self.stdout = stdout
    }

    /// Progress lines go to `stderr`, a line per object to `stdout`.
    public convenience init(source: SourceConfig, client: KubeClient, options: ReconcileOptions = ReconcileOptions(),
                            inventoryNamespace: String = InventoryStore.defaultNamespace,
                            stderr: @escaping @Sendable (String) -> Void, stdout: @escaping @Sendable (String) -> Void) throws {
        self.init(source: source, client: client, options: options, inventoryNamespace: inventoryNamespace,
                  log: try Log(format: nil, stderr: stderr, terminal: false), stdout: stdout)
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
            client.resetRequestCounts()
            log.info("next reconcile in about \(interval.seconds)s, or at once on a push webhook")
        }
    }

    /// Ends `run` after the round in progress.
    public func stop() { poller.stop() }

    /// Renders and applies a fetched revision, then commits the status report (not on a dry run).
    func round(_ fetched: FetchResult) throws -> Round {
        log.info("fetch: \(fetched.revision) (\(fetched.changes.count) files changed)")
        let rendered = try Pipeline.render(fetched.directory, log: log)
        let result = Pipeline.apply(rendered, client: client, inventoryNamespace: inventoryNamespace, options: options, log: log, stdout: stdout)
        if !options.apply.dryRun {
            let report = Reconciler.statusReport(revision: fetched.revision.description, time: Date(), rendered: rendered, result: result)
            switch try StatusWriter(config: source).write(report) {
            case .unchanged(let branch): log.info("status: unchanged on \(branch)")
            case .committed(let commit, let branch, _): log.info("status: committed \(commit) to \(branch)")
            }
        }
        return Round(fetched: fetched, rendered: rendered, code: ApplyCommand.exitCode(result))
    }
}
