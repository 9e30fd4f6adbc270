import Apply
import Artifacts
import Foundation
import GitHub
import GitSync
import LocalCluster
import Model
import Plan
import Reconciler
import SessionController
import Support
import Synchronization
import Webhooks

/// `tenantry serve`: the webhook server.
public enum ServeCommand {
    public static let usage = """
    Usage: tenantry serve [REPO] [flags]
           tenantry serve --reconcile [--config tenantry.yaml] [flags]

    Receives GitHub, Jira, Slack and generic webhooks and turns those that match a tenant's triggers into
    Session objects in the tenant's namespace, within its NamespacePolicy. The tenant repo REPO (default: the
    current directory) is rendered at start; send SIGHUP to render it again and swap the tenant table.
    With --reconcile, the tenant repo is followed in git instead (the source: section of --config): each
    revision is reconciled as `tenantry reconcile --watch` does, and the tenant table is swapped atomically
    once it is; a GitHub `push` delivery for that repository starts the next reconcile at once.
    SIGTERM or SIGINT stop gracefully: requests in flight finish; accepted deliveries whose Session is not
    created yet stay in the journal and are replayed at the next start.

    Endpoints: POST /api/v1/webhooks/{github|jira|slack|generic}[/validate], GET /healthz, /readyz, /metrics
    (contract: specs/contracts/webhooks.yaml), and the Sessions API under /api/v1 (whoami, user/namespaces,
    namespaces/{ns}/sessions…, artifacts, audit; contract: specs/contracts/sessions.yaml), authenticated by the
    auth: section of --config (OIDC issuers) and TokenReview, authorized by SubjectAccessReview.

    Flags:
      --listen ADDR            127.0.0.1 (default) or 0.0.0.0 (every IPv4 address)
      --port N                 TCP port (default 8080; 0 picks a free one, printed at start)
      --secret-file SRC=PATH   file holding the webhook secret of github, jira or slack (repeatable). Without it,
                               the environment: TENANTRY_GITHUB_WEBHOOK_SECRET, TENANTRY_JIRA_WEBHOOK_SECRET,
                               TENANTRY_SLACK_SIGNING_SECRET. Secrets never come from the tenant repo.
      --journal PATH           SQLite journal of accepted deliveries (default ./tenantry-webhooks.db)
      --kubeconfig PATH        cluster to create Sessions in (default $KUBECONFIG, ~/.kube/config, the in-cluster
                               service account, else the local cluster's kubeconfig: $TENANTRY_CLUSTER_DIR/kubeconfig
                               or ~/.tenantry/cluster/kubeconfig)
      --body-limit SRC=BYTES   largest body accepted from a source (defaults: github 25 MiB, jira 10 MiB,
                               slack and generic 1 MiB)
      --refresh-interval S     seconds between listings of live Sessions for the concurrency limit (default 5)
      --estimated-tokens N     tokens assumed per session for models priced per 1k tokens (default 100000)
      --quiet                  no log line per request
      --controller             also run the session controller in this process (as `tenantry controller REPO` does; runner
                               pods upload artifacts to this server)
      --admission local|cluster  where budget, maxConcurrentSessions and sessionsPerMinute are decided: this process's
                               journal (local, the default) or the NamespacePolicy's status by compare-and-swap (cluster:
                               exact across any number of receivers; specs/deploy.md)
      --git-base-url URL       with --controller: where runners clone a trigger's owner/repo from (default https://github.com)
                               (with --reconcile the controller's platform is the tenant repo fetched once at start)
      --api-url URL            with --controller: Tenantry's API as runner pods reach it, for artifact uploads (default
                               http://127.0.0.1:PORT, this server; in a cluster the receivers' Service)
      --leader-elect-sessions-lease NAME  with --controller --leader-elect: the session controller's own Lease
                               (default tenantry-sessions; --leader-elect-lease names the reconciler's)
      --notify-outbox PATH …   with --controller: the notification flags of `tenantry controller --help` (outbox, links,
                               Jira and Slack tokens, CAs, timeout, audit trail); GitHub answers use --github-api and
                               --github-token-file below
      --plan-repo OWNER/NAME   the GitHub repository of the tenant repo: its pull requests (opened, synchronize,
                               reopened) are planned as `tenantry plan` does and the result posted on the pull
                               request (one comment, edited on each push) with commit status tenantry/plan
      --reconcile              follow the tenant repo in git and reconcile it into the cluster (see above)
      --config FILE            tenantry.yaml whose source: section says how to fetch the tenant repository, for
                               --reconcile and --plan-repo (default ./tenantry.yaml); pull requests are fetched
                               into CACHE/pull-requests
      --github-token-file F    GitHub token for comments and statuses (default: $GITHUB_TOKEN); never printed
      --github-api URL         GitHub API base URL (default https://api.github.com; GitHub Enterprise:
                               https://HOST/api/v3)
      --ack-after WHEN         journal (default): answer 202 once the delivery is fsync'd in the local journal;
                               cluster: once its Session exists in the API server (503 with Retry-After if it is
                               not there within 10 s: the journal keeps it, a redelivery is deduplicated)
      --leader-elect           with --reconcile and/or --controller: run each loop only while holding its Lease, so of
                               several replicas one reconciles and one runs Sessions (lease 15s, renew deadline 10s,
                               retry 2s; holder $POD_NAME, else the host name); SIGTERM releases them for an
                               immediate handover
      --leader-elect-lease N   the reconciler's Lease (default tenantry-reconciler)
      --leader-elect-namespace NS  the Lease's namespace (default tenantry-system)

    Sessions API flags:
      --audience AUD           TokenReview audience a Kubernetes token must carry (repeatable; replaces
                               auth.kubernetes.audiences, default tenantry; on the embedded local cluster its own
                               audience https://kubernetes.default.svc.cluster.local is added, so `tenantry cluster
                               token` and `kubectl create token` tokens work there)
      --audit-db PATH          the audit trail (default tenantry-audit.db next to --journal); webhook admission
                               decisions and every API read or write of a session are recorded before the answer
      --audit-stdout           also print each audit entry as a JSON line
      --audit-retention D      prune audit entries older than D (e.g. 7y); default: the longest retention.auditLogs of
                               the tenant table's namespaces (7y without any), as `tenantry audit prune` decides
      --audit-prune-interval D how often the trail is pruned (default 1h; a pass at start)
      --artifacts-dir DIR      where runner artifacts are kept (default tenantry-artifacts next to --journal, unless
                               --config has artifacts.s3 {endpoint, bucket, region, prefix}; keys from
                               AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)

    Web UI flags (the UI is served at / on the same port; specs/web-ui.md):
      \(webUIUsage)

    Exit codes: 0 stopped by a signal; 1 leader election lost (the Lease could not be renewed in time); 2 bad flags, a broken tenant repo, or a port or journal that cannot be used.
    """

    struct Flags {
        var repo = "."
        var loopbackOnly = true
        var port: UInt16 = 8080
        var secretFiles: [WebhookSource: String] = [:]
        var journal = "tenantry-webhooks.db"
        var kubeconfig: String?
        var bodyLimits: [WebhookSource: Int] = [:]
        var refreshInterval: TimeInterval = 5
        var estimatedTokens: Int64 = 100_000
        var quiet = false
        var planRepository: String?
        var config = "tenantry.yaml"
        var reconcile = false
        var githubTokenFile: String?
        var githubAPI = "https://api.github.com"
        var leaderElection: LeaderElectionConfig?
        var ackAfter: AckAfter = .journal
        var sharedAdmission = false
        var controller = false
        var gitBaseURL: String?
        var sessionsLease = LeaderElectFlags.sessionsLease
        var apiURL: String?
        var notify = NotifyFlags.Flags()
        var api = APIFlags()
        var webUI = WebUIFlags()
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> Flags {
        let args = try Arguments(arguments, valued: ["--listen", "--port", "--secret-file", "--journal", "--kubeconfig", "--body-limit",
                                                     "--refresh-interval", "--estimated-tokens", "--plan-repo", "--config",
                                                     "--github-token-file", "--github-api", "--ack-after", "--git-base-url", "--admission", "--api-url",
                                                     "--leader-elect-sessions-lease"] + LeaderElectFlags.valued + NotifyFlags.valued + apiValued + webUIValued,
                                 switches: ["--quiet", "--reconcile", "--controller"] + LeaderElectFlags.switches + apiSwitches + webUISwitches)
        var flags = Flags()
        func sourcePair(_ flag: String, _ text: String) throws(UsageError) -> (WebhookSource, String) {
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let source = WebhookSource(rawValue: String(parts[0])) else {
                throw UsageError("\(flag) takes SOURCE=VALUE with SOURCE one of github, jira, slack, generic; got \"\(text.prefix(20))\"")
            }
            return (source, String(parts[1]))
        }
        switch args.value("--listen") {
        case nil, "127.0.0.1", "localhost": flags.loopbackOnly = true
        case "0.0.0.0": flags.loopbackOnly = false
        case let address?: throw UsageError("--listen takes 127.0.0.1 or 0.0.0.0, got \"\(address)\"")
        }
        if let text = args.value("--port") {
            guard let port = UInt16(text) else { throw UsageError("--port must be a number from 0 to 65535, got \"\(text)\"") }
            flags.port = port
        }
        for text in args.values("--secret-file") {
            let (source, path) = try sourcePair("--secret-file", text)
            guard source != .generic else { throw UsageError("generic webhooks are not signed: they authenticate with X-API-Key; drop --secret-file generic=…") }
            flags.secretFiles[source] = path
        }
        if let journal = args.value("--journal") { flags.journal = journal }
        flags.kubeconfig = args.value("--kubeconfig")
        for text in args.values("--body-limit") {
            let (source, value) = try sourcePair("--body-limit", text)
            guard let bytes = Int(value), bytes > 0 else { throw UsageError("--body-limit \(source.rawValue)= must be a positive number of bytes") }
            flags.bodyLimits[source] = bytes
        }
        if let text = args.value("--refresh-interval") {
            guard let seconds = TimeInterval(text), seconds >= 0 else { throw UsageError("--refresh-interval must be a number of seconds, got \"\(text)\"") }
            flags.refreshInterval = seconds
        }
        if let text = args.value("--estimated-tokens") {
            guard let tokens = Int64(text), tokens > 0 else { throw UsageError("--estimated-tokens must be a positive whole number") }
            flags.estimatedTokens = tokens
        }
        flags.quiet = args.isSet("--quiet")
        if let repository = args.value("--plan-repo") {
            guard repository.split(separator: "/").count == 2 else { throw UsageError("--plan-repo takes OWNER/NAME, got \"\(repository)\"") }
            flags.planRepository = repository
        }
        if let config = args.value("--config") { flags.config = config }
        flags.reconcile = args.isSet("--reconcile")
        flags.leaderElection = try LeaderElectFlags.parse(args)
        if let text = args.value("--ack-after") {
            guard let ack = AckAfter(rawValue: text) else { throw UsageError("--ack-after takes journal or cluster, got \"\(text)\"") }
            flags.ackAfter = ack
        }
        switch args.value("--admission") {
        case nil, "local": flags.sharedAdmission = false
        case "cluster": flags.sharedAdmission = true
        case let other?: throw UsageError("--admission takes local or cluster, got \"\(other)\"")
        }
        flags.controller = args.isSet("--controller")
        flags.gitBaseURL = args.value("--git-base-url")
        flags.apiURL = args.value("--api-url")
        if flags.apiURL != nil && !flags.controller { throw UsageError("--api-url tells the session controller's runner pods where Tenantry is: use it with --controller") }
        if flags.leaderElection != nil && !flags.reconcile && !flags.controller {
            throw UsageError("--leader-elect elects the reconciler and the session controller: use it with --reconcile or --controller (receivers need no election)")
        }
        if let name = args.value("--leader-elect-sessions-lease") {
            guard flags.leaderElection != nil, flags.controller else { throw UsageError("--leader-elect-sessions-lease needs --controller --leader-elect") }
            flags.sessionsLease = name
        }
        flags.api = try parseAPI(args)
        flags.webUI = try WebUIFlags(args)
        flags.githubTokenFile = args.value("--github-token-file")
        if let api = args.value("--github-api") { flags.githubAPI = api }
        flags.notify = try NotifyFlags.parse(args)
        let positionals = try args.positionals(max: 1, usage: "tenantry serve [REPO] [flags]")
        if flags.reconcile && !positionals.isEmpty {
            throw UsageError("with --reconcile the tenant repo comes from git (--config); drop \(positionals[0])")
        }
        flags.repo = positionals.first ?? "."
        return flags
    }

    /// The cluster to create Sessions in: --kubeconfig, $KUBECONFIG, ~/.kube/config or the in-cluster service
    /// account (Apply's ClusterLocator), else the local cluster's kubeconfig.
    static func clusterConfig(_ flag: String?, environment: [String: String]) throws -> ClusterConfig {
        if let found = try ClusterLocator(kubeconfigFlag: flag, environment: environment).locate() { return found }
        let directory = LocalClusterServer.defaultDirectory(environment: environment)
        let local = directory + "/kubeconfig"
        guard FileManager.default.fileExists(atPath: local) else {
            throw UsageError("no cluster to create Sessions in: no --kubeconfig, KUBECONFIG, ~/.kube/config or service account, and no local cluster kubeconfig at \(local); start one with tenantry cluster start or pass --kubeconfig")
        }
        return try KubeSessionWriter.config(kubeconfig: local)
    }

    /// The `source:` section of --config, which --reconcile and --plan-repo need.
    static func sourceConfig(_ flags: Flags, for flag: String) throws -> SourceConfig {
        do {
            return try SourceConfig.load(configFile: flags.config)
        } catch {
            throw UsageError("\(flag) needs the tenant repository's source: section (--config, default ./tenantry.yaml): \(error)")
        }
    }

    /// The pull-request planner of `--plan-repo`: how to fetch the tenant repository, and a GitHub client.
    static func reviewer(repository: String, flags: Flags, environment: [String: String]) throws -> TenantRepoReviewer {
        let config = try sourceConfig(flags, for: "--plan-repo")
        let token = try GitHubToken.resolve(file: flags.githubTokenFile, environment: environment)
        return TenantRepoReviewer(repository: repository, config: config, github: GitHubClient(apiURL: flags.githubAPI, token: token))
    }

    public static func run(_ arguments: [String], stdout: @escaping @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void) throws -> Int32 {
        let flags = try parse(arguments)
        let environment = ProcessInfo.processInfo.environment
        let secrets = try WebhookSecrets.load(files: flags.secretFiles, environment: environment)
        // With --reconcile the table comes with the first reconciled revision; until then /readyz says 503.
        var table: TenantTable?
        if !flags.reconcile {
            do {
                table = try TenantTable.load(repo: flags.repo, estimatedTokensPerSession: flags.estimatedTokens)
            } catch {
                stderr("\(error)\nerror: the tenant repo \(flags.repo) cannot be rendered, so no webhook can be routed; fix it and start again\n")
                return Tenantry.ExitCode.failure
            }
        }
        for name in table?.invalidTenants ?? [] { stderr("warning: tenant \(name) is invalid and left out; its webhooks are ignored until it is fixed\n") }
        let cluster = try clusterConfig(flags.kubeconfig, environment: environment)
        let audit = try openAudit(flags, stdout: stdout)
        var options = WebhookServer.Options(journalPath: flags.journal, secrets: secrets, writer: KubeSessionWriter(config: cluster))
        options.port = flags.port
        options.loopbackOnly = flags.loopbackOnly
        options.refreshInterval = flags.refreshInterval
        options.ackAfter = flags.ackAfter
        if flags.sharedAdmission { options.sharedAdmission = ClusterAdmission(config: cluster) }
        options.admissionDecided = auditAdmissions(audit)
        options.mountedBodyLimit = ArtifactLimits.defaultMaxBytes
        if !flags.bodyLimits.isEmpty {
            var limits = WebhookService.Configuration(secrets: secrets).bodyLimits
            for (source, bytes) in flags.bodyLimits { limits[source] = bytes }
            options.bodyLimits = limits
        }
        let quiet = flags.quiet
        // Every level prints alike (serve's lines are pinned as they are); the level is for the tests and sinks that sort.
        options.log = { _, line in if !quiet { stderr(line + "\n") } }
        options.repositoryPushed = { SourceRefresh.requestRefresh(repositoryURL: $0) }
        if let repository = flags.planRepository {
            options.tenantRepoReviewer = try reviewer(repository: repository, flags: flags, environment: environment)
        }

        // Signals are handled on a queue, not in a C handler.
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_IGN) }
        // Ignored signals are inherited by processes started later; restore them when serve returns.
        defer { for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_DFL) } }
        let server = try WebhookServer(options: options, table: table)
        let api = try sessionsAPI(flags, cluster: cluster, embedded: ControllerCommand.isEmbedded(cluster), audit: audit, server: server, environment: environment)
        server.mount { api.handle($0) }
        // The web UI at /, after the API: it answers every path that is not the API's or the webhooks'.
        let ui = try webUI(flags.webUI, api: { api.handle($0) }, issuer: firstIssuer(flags), table: { server.service.tenantTable })
        server.mount { ui.handle($0) }
        api.sessionIndex?.start()
        let pruner = auditPruner(flags, audit: audit, server: server, log: stderr)
        pruner.start()
        defer {
            pruner.stop()
            api.streams?.feeds.stop()
            api.sessionIndex?.stop()
        }
        let missing = [WebhookSource.github, .jira, .slack].filter { secrets.secret(for: $0) == nil }.map(\.rawValue)
        if !missing.isEmpty { stderr("warning: no webhook secret for \(missing.joined(separator: ", ")): those deliveries will be refused with 401\n") }
        let tables = table.map { "revision \($0.revision), \($0.policies.count) namespaces" } ?? "tenant table after the first reconcile"
        stdout("tenantry serve: listening on http://\(flags.loopbackOnly ? "127.0.0.1" : "0.0.0.0"):\(server.port) (\(tables), \(server.replayed) journal entries replayed, Sessions to \(cluster.server))\n")

        let done = DispatchSemaphore(value: 0)
        let lostLease = Mutex(false)
        var loop: ReconcileLoop?
        var election: LeaderElectFlags.Session?
        let running = DispatchGroup()
        if flags.reconcile {
            let log: @Sendable (String) -> Void = { line in if !quiet { stderr(line) } }
            let reconcile = try ReconcileLoop(source: try sourceConfig(flags, for: "--reconcile"), client: KubeClient(config: cluster),
                                              stderr: log, stdout: log)
            let tokens = flags.estimatedTokens
            let run: @Sendable () -> Void = {
                running.enter()
                defer { running.leave() }
                reconcile.run { round in
                    let next = TenantTable(rendered: round.rendered, revision: round.fetched.revision.description, estimatedTokensPerSession: tokens)
                    server.replaceTenantTable(next)
                    log("tenant table: revision \(next.revision), \(next.policies.count) namespaces\n")
                }
            }
            if let config = flags.leaderElection {
                // Leadership lost (the Lease could not be renewed in time): stop reconciling and exit non-zero, so
                // the pod restarts and campaigns afresh, as client-go controllers do.
                election = LeaderElectFlags.Session(config, cluster: cluster, log: { stderr($0) }, start: run, lost: {
                    reconcile.stop()
                    lostLease.withLock { $0 = true }
                    done.signal()
                })
            } else {
                Thread.detachNewThread(run)
            }
            loop = reconcile
        }

        var controller: ControllerElection?
        if flags.controller {
            let reconcileLoop = loop
            controller = try startController(flags, cluster: cluster, server: server, audit: audit, artifacts: api.artifacts, stderr: stderr, lost: {
                reconcileLoop?.stop()
                lostLease.withLock { $0 = true }
                done.signal()
            })
            if let controller { server.metrics.append { controller.metricsText() } }
        }

        let queue = DispatchQueue(label: "tenantry.serve.signals")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangup.setEventHandler {
            guard !flags.reconcile else { return stderr("SIGHUP ignored: with --reconcile the tenant table follows git\n") }
            do {
                let next = try TenantTable.load(repo: flags.repo, estimatedTokensPerSession: flags.estimatedTokens)
                server.replaceTenantTable(next)
                stderr("tenant table reloaded: \(next.policies.count) namespaces\n")
            } catch {
                stderr("tenant table not reloaded, the previous one stays: \(error)\n")
            }
        }
        hangup.resume()
        sources.append(hangup)
        done.wait()
        stderr("tenantry serve: stopping (finishing requests in flight)\n")
        loop?.stop()
        controller?.stop()
        // The Lease is released only once the round in progress has finished writing.
        if election != nil { running.wait() }
        election?.shutdown()
        server.stop()
        for source in sources { source.cancel() }
        if lostLease.withLock({ $0 }) {
            stderr("tenantry serve: stopped: leader election lost\n")
            return Tenantry.ExitCode.leaderElectionLost
        }
        stdout("tenantry serve: stopped\n")
        return Tenantry.ExitCode.success
    }
}

/// `serve --plan-repo`: Plan's reviewer is the webhook server's pull-request planner.
extension TenantRepoReviewer: PullRequestReviewer {
    public func logWords(_ outcome: PullRequestPlanner.Outcome) -> String {
        switch outcome {
        case .ignored: "plan not needed"
        case .posted: "plan posted"
        case .failed: "plan failed"
        }
    }
}
