import Apply
import Foundation
import GitSync
import Model
import Render
import Reconciler
import Support

/// Arguments shared by apply, diff and reconcile.
struct ClusterFlags {
    static let valued = ["--kubeconfig", "--context", "--log-format", "--concurrency", "--max-prune-percent", "--inventory-namespace"]
    static let switches = ["--force-conflicts", "--prune-namespaces", "--allow-mass-prune"]

    static let usage = """
          --kubeconfig FILE         kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then the
                                    in-cluster service account; with none of these, the local cluster in
                                    $TENANTRY_CLUSTER_DIR or ~/.tenantry/cluster, started in this process
                                    if it is not running)
          --context NAME            kubeconfig context (default: the current context)
          --force-conflicts         take over fields other field managers own (server-side apply force)
          --prune-namespaces        also delete Namespaces that left the tenant repo (last, after their contents)
          --allow-mass-prune        proceed when a tenant rendered nothing but has objects, or when the prune
                                    would delete more than --max-prune-percent of the recorded objects
          --max-prune-percent N     the mass-prune guard's share (default 50)
          --concurrency N           objects applied at once within a stage (default 8)
          --inventory-namespace NS  where the per-tenant inventories are kept (default tenantry-system)
          --log-format text|json    progress on stderr as text lines or JSON lines
        """

    static func options(_ flags: Arguments, dryRun: Bool) throws(UsageError) -> ReconcileOptions {
        var apply = ApplyOptions(force: flags.isSet("--force-conflicts"), dryRun: dryRun)
        if let text = flags.value("--concurrency") {
            guard let value = Int(text), value > 0, value <= 64 else { throw UsageError("--concurrency must be a whole number from 1 to 64, got \"\(text)\"") }
            apply.concurrency = value
        }
        var prune = PrunePolicy(allowMassPrune: flags.isSet("--allow-mass-prune"), pruneNamespaces: flags.isSet("--prune-namespaces"))
        if let text = flags.value("--max-prune-percent") {
            guard let value = Int(text), (0...100).contains(value) else { throw UsageError("--max-prune-percent must be a whole number from 0 to 100, got \"\(text)\"") }
            prune.maxShare = Double(value) / 100
        }
        return ReconcileOptions(apply: apply, prune: prune)
    }

    static func locator(_ flags: Arguments) -> ClusterLocator {
        ClusterLocator(kubeconfigFlag: flags.value("--kubeconfig"), context: flags.value("--context"))
    }

    static func inventoryNamespace(_ flags: Arguments) -> String { flags.value("--inventory-namespace") ?? InventoryStore.defaultNamespace }
}

enum Pipeline {
    /// Load, validate, render: a broken platform file throws; invalid tenants come back flagged.
    static func render(_ repo: String, log: Log) throws -> RenderedRepo {
        let rendered = Renderer.render(try RepoValidator.validate(try RepoLoader.load(repo)))
        let invalid = rendered.invalidTenants
        log.info("render: \(rendered.tenants.count) tenants (\(invalid.count) invalid), \(rendered.manifests.count) objects")
        for tenant in invalid {
            for diagnostic in tenant.diagnostics where diagnostic.severity == .error { log.error(diagnostic.description) }
            log.warning("tenant \(tenant.name) (\(tenant.file)) is invalid: it is neither applied nor pruned; its live objects stay as they are")
        }
        return rendered
    }

    /// Runs a reconcile and prints it: a stdout line per object, refusals and failures on stderr, a summary.
    static func apply(_ rendered: RenderedRepo, client: KubeClient, inventoryNamespace: String, options: ReconcileOptions,
                      log: Log, stdout: @Sendable (String) -> Void) -> ReconcileResult {
        let reconciler = Reconciler(client: client, inventoryNamespace: inventoryNamespace)
        let clock = ContinuousClock()
        let started = clock.now
        let result = reconciler.reconcile(rendered, options: options, progress: { log.info($0) },
                                          onChange: log.counter(total: rendered.manifests.count))
        let suffix = options.apply.dryRun ? " (server dry run)" : ""
        for change in result.changes.changes {
            stdout("\(change)\(suffix)\n")
            if change.action == .failed { log.error(change.message) } else if !change.message.isEmpty && change.action != .unchanged { log.info("\(change.object): \(change.message)") }
        }
        for namespace in result.keptNamespaces {
            log.warning("\(namespace) left the tenant repo but is kept; pass --prune-namespaces to delete it")
        }
        for refusal in result.pruneRefusals { log.error(refusal.description) }
        for error in result.errors { log.error(error) }
        log.info("summary: \(result.changes.summary) in \(Reconciler.seconds(clock.now - started)); \(client.requestCounts)")
        return result
    }
}

extension ReconcileLoop {
    /// The loop as `reconcile --watch` and `serve --reconcile` run it: each revision rendered and applied as
    /// `tenantry apply` does it (a line per object on `stdout`), its status report committed unless a dry run.
    convenience init(source: SourceConfig, client: KubeClient, options: ReconcileOptions, inventoryNamespace: String, log: Log,
                     stdout: @escaping @Sendable (String) -> Void) {
        self.init(source: source, writesStatus: !options.apply.dryRun, log: log,
                  sessionCounts: { rendered in Reconciler.sessionCounts(client: client, rendered: rendered) }) { directory in
            client.resetRequestCounts()
            let rendered = try Pipeline.render(directory, log: log)
            return (rendered, Pipeline.apply(rendered, client: client, inventoryNamespace: inventoryNamespace, options: options, log: log, stdout: stdout))
        }
    }

    /// Progress lines go to `stderr`, a line per object to `stdout`.
    public convenience init(source: SourceConfig, client: KubeClient, options: ReconcileOptions = ReconcileOptions(),
                            inventoryNamespace: String = InventoryStore.defaultNamespace,
                            stderr: @escaping @Sendable (String) -> Void, stdout: @escaping @Sendable (String) -> Void) throws {
        self.init(source: source, client: client, options: options, inventoryNamespace: inventoryNamespace,
                  log: try Log(format: nil, stderr: stderr, terminal: false), stdout: stdout)
    }
}
