import Apply
import Foundation
import GitSync
import Model
import Reconciler
import Render
import Support
import Synchronization

/// `tenantry apply [REPO]`: render the tenant repo and make the cluster match it.
public enum ApplyCommand {
    public static let usage = """
        Usage: tenantry apply [REPO] [--dry-run] [flags]

        Renders the tenant repo (default: the current directory) and applies it with server-side
        apply (field manager "tenantry"), in stages: CustomResourceDefinitions and Namespaces, a
        wait until the CRDs are Established, cluster-wide objects, then namespaced ones. Objects
        whose tenantry.dev/content-hash matches the live one and whose fields Tenantry owns have not
        drifted are left alone, so re-applying an unchanged repo writes nothing. Objects that left
        the repo are pruned, tenant by tenant, from the inventory kept in the cluster
        (ConfigMaps in tenantry-system); objects without Tenantry's labels are never deleted. An
        invalid tenant is neither applied nor pruned.

        stdout: one line per object, `Kind/namespace/name action` (created, configured, unchanged,
        deleted, skipped, failed). stderr: a line per stage with counts, warnings, errors, a summary.

        Flags:
          --dry-run                 server-side dry run: the server checks everything, nothing is stored
        \(ClusterFlags.usage)

        Exit status: 0 applied; 1 applied, but a tenant is invalid or some objects failed (the rest
        were applied); 2 bad flags, broken platform file, unreachable cluster, or a refused prune.
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void) throws -> Int32 {
        let flags = try Arguments(arguments, valued: ClusterFlags.valued, switches: ClusterFlags.switches + ["--dry-run"])
        let repo = try flags.positionals(max: 1, usage: "tenantry apply [REPO] [flags]").first ?? "."
        let log = try Log(format: flags.value("--log-format"), stderr: stderr)
        let options = try ClusterFlags.options(flags, dryRun: flags.isSet("--dry-run"))
        let rendered = try Pipeline.render(repo, log: log)
        let target = try ClusterTarget.connect(ClusterFlags.locator(flags))
        defer { target.close() }
        log.info("cluster: \(target.config)")
        let client = KubeClient(config: target.config)
        let result = Pipeline.apply(rendered, client: client, inventoryNamespace: ClusterFlags.inventoryNamespace(flags), options: options, log: log, stdout: stdout)
        return result.exitCode
    }
}

/// `tenantry diff [REPO]`: what apply would change, per object, by server-side dry run.
public enum DiffCommand {
    public static let usage = """
        Usage: tenantry diff [REPO] [flags]

        Shows what `tenantry apply` would change: for each object that is new, changed or drifted
        (someone edited a field Tenantry owns), the fields before (-) and after (+), coloured on a
        terminal; objects that left the repo and would be pruned. Computed with a server-side dry
        run; nothing is written. Secret values are shown as ***.

        Flags:
          --color auto|always|never  colour the diff (default auto: when stdout is a terminal)
        \(ClusterFlags.usage)

        Exit status: 0 no differences; 1 differences found; 2 bad flags or an error (as kubectl diff).
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void) throws -> Int32 {
        let flags = try Arguments(arguments, valued: ClusterFlags.valued + ["--color"], switches: ClusterFlags.switches)
        let repo = try flags.positionals(max: 1, usage: "tenantry diff [REPO] [flags]").first ?? "."
        let log = try Log(format: flags.value("--log-format"), stderr: stderr)
        let color: Bool
        switch flags.value("--color") ?? "auto" {
        case "auto": color = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        case "always": color = true
        case "never": color = false
        case let other: throw UsageError("--color must be auto, always or never, got \"\(other)\"")
        }
        let options = try ClusterFlags.options(flags, dryRun: true)
        let rendered = try Pipeline.render(repo, log: log)
        let target = try ClusterTarget.connect(ClusterFlags.locator(flags))
        defer { target.close() }
        let client = KubeClient(config: target.config)
        let reconciler = Reconciler(client: client, inventoryNamespace: ClusterFlags.inventoryNamespace(flags))
        let (diffs, refusals) = try reconciler.diff(rendered, options: options)
        var changed = 0, failed = 0
        for diff in diffs where diff.action != .unchanged {
            if diff.action == .failed {
                failed += 1
                log.error(diff.message)
                continue
            }
            changed += 1
            stdout(diff.rendered(color: color))
        }
        for refusal in refusals { log.error(refusal.description) }
        log.info("diff: \(changed) objects differ, \(diffs.count - changed - failed) unchanged, \(failed) failed; \(client.requestCounts)")
        if failed > 0 || !refusals.isEmpty { return Tenantry.ExitCode.failure }
        return changed > 0 ? Tenantry.ExitCode.findings : Tenantry.ExitCode.success
    }
}

/// `tenantry reconcile`: fetch → render → apply → status report, once or on the poll interval.
public enum ReconcileCommand {
    public static let usage = """
        Usage: tenantry reconcile [--config tenantry.yaml] [--watch] [flags]
               tenantry reconcile REPO [--watch] [--interval 1m] [flags]

        With --config (default ./tenantry.yaml when it exists): fetches the tenant repository
        (the source: section), renders it, applies it as `tenantry apply` does, and commits the
        status report back (the status: section). With a REPO directory instead: renders and
        applies it, no git and no report. --watch repeats on the source's interval (or --interval).

        Flags:
          --config FILE             tenantry.yaml with source: and status: sections
          --watch                   keep reconciling on the interval until interrupted
        \(LeaderElectFlags.usage)
          --interval DURATION       the interval for a REPO directory (default 60s; 30s, 5m, 1h)
          --dry-run                 server-side dry run; no report is committed
        \(ClusterFlags.usage)

        Exit status: as tenantry apply, for the last round (0 converged; 1 invalid tenants or failed
        objects; 2 bad flags, fetch or cluster failure, refused prune); with --leader-elect, 1 when the
        Lease could not be renewed in time (leader election lost), as serve and controller.
        """

    public static func run(_ arguments: [String], stdout: @escaping @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void) throws -> Int32 {
        let flags = try Arguments(arguments, valued: ClusterFlags.valued + ["--config", "--interval"] + LeaderElectFlags.valued,
                                  switches: ClusterFlags.switches + ["--watch", "--dry-run", "--once"] + LeaderElectFlags.switches)
        let positional = try flags.positionals(max: 1, usage: "tenantry reconcile [REPO] [flags]")
        let log = try Log(format: flags.value("--log-format"), stderr: stderr)
        let options = try ClusterFlags.options(flags, dryRun: flags.isSet("--dry-run"))
        if !positional.isEmpty && flags.value("--config") != nil {
            throw UsageError("give either a REPO directory or --config, not both")
        }
        let configPath = flags.value("--config") ?? (positional.isEmpty && FileManager.default.fileExists(atPath: "tenantry.yaml") ? "tenantry.yaml" : nil)
        if positional.isEmpty && configPath == nil {
            throw UsageError("nothing to reconcile: pass a REPO directory or --config tenantry.yaml")
        }
        let sourceConfig = try configPath.map { path throws -> SourceConfig in try loadSourceConfig(path) }
        let leaderElection = try LeaderElectFlags.parse(flags)
        if leaderElection != nil && (sourceConfig == nil || !flags.isSet("--watch")) {
            throw UsageError("--leader-elect elects the reconciler of `reconcile --watch --config`: add --watch and --config tenantry.yaml")
        }
        var interval = 60.0
        if let text = flags.value("--interval") {
            guard let seconds = DurationText.seconds(text), seconds > 0 else { throw UsageError("--interval must be a duration like 30s, 5m or 1h, got \"\(text)\"") }
            interval = Double(seconds)
        } else if let sourceConfig {
            let (s, attos) = sourceConfig.interval.components
            interval = Double(s) + Double(attos) / 1e18
        }

        let target = try ClusterTarget.connect(ClusterFlags.locator(flags))
        defer { target.close() }
        log.info("cluster: \(target.config)")
        let client = KubeClient(config: target.config)
        let watch = flags.isSet("--watch")

        if var sourceConfig, watch {
            // GitSync's poller: the interval with jitter, and at once when a push webhook for the
            // repository arrives in this process (`SourceRefresh.requestRefresh`).
            sourceConfig.interval = .milliseconds(Int64(interval * 1000))
            let loop = ReconcileLoop(source: sourceConfig, client: client, options: options,
                                     inventoryNamespace: ClusterFlags.inventoryNamespace(flags), log: log, stdout: stdout)
            // SIGINT and SIGTERM end the watch after the round in progress.
            let stops = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { loop.stop() }
                source.resume()
                return source
            }
            defer {
                for stop in stops { stop.cancel() }
                for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
            }
            guard let leaderElection else {
                loop.run()
                return Tenantry.ExitCode.success
            }
            return reconcileWhileLeading(loop, leaderElection, cluster: target.config, stops: stops, log: log)
        }
        while true {
            var code: Int32
            do throws(any Error) {
                if let sourceConfig {
                    let fetched = try Source(config: sourceConfig).fetch()
                    code = try ReconcileLoop(source: sourceConfig, client: client, options: options,
                                             inventoryNamespace: ClusterFlags.inventoryNamespace(flags), log: log, stdout: stdout)
                        .round(fetched).code
                } else {
                    let rendered = try Pipeline.render(positional.first ?? ".", log: log)
                    code = Pipeline.apply(rendered, client: client, inventoryNamespace: ClusterFlags.inventoryNamespace(flags),
                                          options: options, log: log, stdout: stdout).exitCode
                }
            } catch where watch {
                log.error("\(error)")
                code = Tenantry.ExitCode.failure
            }
            guard watch else { return code }
            log.info("next reconcile in \(Int(interval))s")
            Thread.sleep(forTimeInterval: interval)
            client.resetRequestCounts()
        }
    }

    /// `--watch --leader-elect`: the loop runs once the Lease is won; a signal stops it and then releases the Lease;
    /// losing the Lease stops it and exits 1 (the pod restarts and campaigns again).
    private static func reconcileWhileLeading(_ loop: ReconcileLoop, _ config: LeaderElectionConfig, cluster: ClusterConfig,
                                              stops: [DispatchSourceSignal], log: Log) -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let running = DispatchGroup()
        let lost = Mutex(false)
        for stop in stops { stop.setEventHandler { done.signal() } }
        let election = LeaderElectFlags.Session(config, cluster: cluster, log: { log.info($0.trimmingCharacters(in: .newlines)) }, start: {
            running.enter()
            defer { running.leave() }
            loop.run()
        }, lost: {
            loop.stop()
            lost.withLock { $0 = true }
            done.signal()
        })
        done.wait()
        loop.stop()
        running.wait()
        election.shutdown()
        if lost.withLock({ $0 }) {
            log.error("leader election lost: Lease \(config.namespace)/\(config.leaseName) could not be renewed in time")
            return Tenantry.ExitCode.leaderElectionLost
        }
        return Tenantry.ExitCode.success
    }

    static func loadSourceConfig(_ path: String) throws -> SourceConfig {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw UsageError("cannot read --config \(path); check the path")
        }
        return try SourceConfig.load(configFile: path)
    }
}
