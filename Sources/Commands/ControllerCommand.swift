import Apply
import Artifacts
import Foundation
import HTTPServer
import Model
import Render
import SessionController
import Sessions
import Support
import Synchronization

/// `tenantry controller`: the session controller alone; `tenantry serve --controller` runs the same beside the webhooks.
enum ControllerCommand {
    static let usage = """
    Usage: tenantry controller [REPO] [flags]

    Runs the session controller: watches Sessions, their runner Jobs and Pods and the NamespacePolicies, and moves each
    Session through Pending → Running → Completed | Failed | Stopped (specs/sessions.md): one Job per admitted Session,
    approval, stop, policy re-checks, the budget settled into NamespacePolicy.status.budget. The tenant repo REPO (default:
    the current directory) gives the platform's runner registry, model prices and container limits.
    SIGTERM or SIGINT stop it (the reconcile in progress finishes).

    Flags:
      --kubeconfig PATH        the cluster (default $KUBECONFIG, ~/.kube/config, the in-cluster service account, else the
                               local cluster's kubeconfig)
      --api-url URL            Tenantry's API as runner pods reach it, for artifact uploads (default http://127.0.0.1:8080)
      --runner-command PATH    the runner container's command (default: none on a real cluster, the image's entrypoint runs;
                               on the embedded local cluster, whose node runs commands instead of images, this tenantry
                               executable)
      --git-base-url URL       where a trigger's owner/repo is cloned from: URL/owner/repo.git (default https://github.com)
      --model-secret NAME      the Secret with the model API key in each tenant namespace (default model-credentials)
      --workers N              sessions reconciled at once (default 4)
      --resync S               seconds between full resyncs (default 60)
      --artifacts DIR          the local artifact store: history past 1,000 entries is archived into it, and artifacts
                               older than a namespace's retention.artifacts are removed from it (default: none)
      --retention-interval S   seconds between retention passes (Sessions past retention.sessions deleted; default 600)
      --metrics-port N         serve GET /metrics (Prometheus text) on 127.0.0.1:N
      --quiet                  no log line per transition
      --leader-elect           run the controller only while holding the Lease (replicas elect one; lease 15s, renew
                               deadline 10s, retry 2s; holder: $POD_NAME, else the host name); SIGTERM releases it
      --leader-elect-lease NAME   the Lease (default tenantry-sessions)
      --leader-elect-namespace NS its namespace (default tenantry-system)
      --github-api URL         GitHub API base URL for answers on issues and pull requests (default https://api.github.com)
      --github-token-file F    GitHub token for those comments and statuses (default: $GITHUB_TOKEN); never printed
    \(NotifyFlags.usage)

    Exit codes: 0 stopped by a signal; 1 leader election lost (the Lease could not be renewed in time); 2 bad flags,
    a broken tenant repo, or no cluster.
    """

    struct Flags {
        var repo = "."
        var kubeconfig: String?
        var apiURL = "http://127.0.0.1:8080"
        var runnerCommand: String?
        var modelSecret = "model-credentials"
        var gitBaseURL = "https://github.com"
        var workers = 4
        var resync: TimeInterval = 60
        var quiet = false
        var leaderElection: LeaderElectionConfig?
        var notify = NotifyFlags.Flags()
        var artifacts: String?
        var retentionInterval: TimeInterval = 600
        var metricsPort: UInt16?
    }

    static let valued = ["--kubeconfig", "--api-url", "--runner-command", "--model-secret", "--git-base-url", "--workers", "--resync",
                         "--github-api", "--github-token-file", "--artifacts", "--retention-interval", "--metrics-port"] + LeaderElectFlags.valued + NotifyFlags.valued

    static func parse(_ args: Arguments, repo positionals: [String]) throws(UsageError) -> Flags {
        var flags = Flags()
        flags.repo = positionals.first ?? "."
        flags.kubeconfig = args.value("--kubeconfig")
        if let url = args.value("--api-url") { flags.apiURL = url }
        flags.runnerCommand = args.value("--runner-command")
        if let name = args.value("--model-secret") { flags.modelSecret = name }
        if let url = args.value("--git-base-url") { flags.gitBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url }
        if let text = args.value("--workers") {
            guard let count = Int(text), (1...64).contains(count) else { throw UsageError("--workers takes a whole number from 1 to 64, got \"\(text)\"") }
            flags.workers = count
        }
        func seconds(_ flag: String) throws(UsageError) -> TimeInterval? {
            guard let text = args.value(flag) else { return nil }
            guard let seconds = TimeInterval(text), seconds >= 1 else { throw UsageError("\(flag) takes seconds (at least 1), got \"\(text)\"") }
            return seconds
        }
        if let resync = try seconds("--resync") { flags.resync = resync }
        if let interval = try seconds("--retention-interval") { flags.retentionInterval = interval }
        flags.quiet = args.isSet("--quiet")
        flags.leaderElection = try LeaderElectFlags.parse(args, defaultLease: LeaderElectFlags.sessionsLease)
        flags.notify = try NotifyFlags.parse(args)
        flags.artifacts = args.value("--artifacts")
        if let text = args.value("--metrics-port") {
            guard let port = UInt16(text), port > 0 else { throw UsageError("--metrics-port takes a port from 1 to 65535, got \"\(text)\"") }
            flags.metricsPort = port
        }
        return flags
    }

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: valued, switches: ["--quiet"] + LeaderElectFlags.switches)
        let flags = try parse(args, repo: try args.positionals(max: 1, usage: "tenantry controller [REPO] [flags]"))
        let cluster = try ServeCommand.clusterConfig(flags.kubeconfig, environment: ProcessInfo.processInfo.environment)
        // The platform is rendered before campaigning, so a broken tenant repo is exit 2 on every replica.
        let platform = try self.platform(flags.repo)
        let ended = DispatchSemaphore(value: 0)
        let outcome = Mutex<Int32?>(nil)
        let end: @Sendable (Int32) -> Void = { code in
            if outcome.withLock({ current in defer { current = current ?? code }; return current == nil }) { ended.signal() }
        }
        let log: @Sendable (String) -> Void = { line in if !flags.quiet { console.err(line.hasSuffix("\n") ? line : line + "\n") } }
        let election = try ControllerElection(election: flags.leaderElection, cluster: cluster, log: { console.err($0) },
                                              make: { try start(flags, platform: platform, cluster: cluster, log: log) },
                                              failed: { error in console.err("error: \(error)\n"); end(Tenantry.ExitCode.failure) },
                                              lost: { end(Tenantry.ExitCode.leaderElectionLost) })
        console.out("tenantry controller: watching Sessions in \(cluster.server) (\(cluster.source))\(flags.leaderElection == nil ? "" : " once it holds the Lease")\n")
        var metrics: HTTPServer?
        if let port = flags.metricsPort {
            var configuration = HTTPServer.Configuration()
            configuration.port = port
            configuration.handlerThreads = 4
            do {
                metrics = try HTTPServer(configuration) { request in
                    guard request.path == "/metrics" else { return Response(status: 404, body: Data("only /metrics is served here\n".utf8)) }
                    return Response(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Data(election.metricsText().utf8))
                }
            } catch {
                election.stop()
                throw UsageError("--metrics-port \(port): cannot listen on 127.0.0.1:\(port): \(error)")
            }
            console.out("tenantry controller: metrics on http://127.0.0.1:\(port)/metrics\n")
        }
        waitForTermination(or: ended)
        metrics?.stop()
        election.stop()
        if let code = outcome.withLock({ $0 }), code != Tenantry.ExitCode.success {
            console.err("tenantry controller: stopped: \(code == Tenantry.ExitCode.leaderElectionLost ? "leader election lost" : "could not start")\n")
            return code
        }
        console.out("tenantry controller: stopped\n")
        return Tenantry.ExitCode.success
    }

    /// History past 1,000 entries archived to `store`, and artifacts past `retention.artifacts` removed from it.
    static func useArtifacts(_ store: any ArtifactStore, in configuration: inout SessionController.Configuration) {
        configuration.archive = { namespace, session, name, bytes in
            _ = try store.put(try ArtifactKey(namespace: namespace, session: session, name: name), bytes: Array(bytes), contentType: "application/json")
        }
        configuration.expireArtifacts = { namespace, cutoff in
            try store.deleteExpired(namespace: namespace, before: cutoff).map { "\($0.namespace)/\($0.session)/\($0.name)" }
        }
    }

    /// The platform's runner registry, prices and limits, rendered from the tenant repo.
    static func platform(_ repo: String) throws -> Platform {
        do {
            return Renderer.render(try RepoValidator.validate(try RepoLoader.load(repo))).platform
        } catch {
            throw UsageError("the session controller needs the platform's runner registry from the tenant repo \(repo): \(error)")
        }
    }

    /// Renders the tenant repo for the platform's registry and starts a controller on `cluster`.
    static func start(_ flags: Flags, platform: Platform, cluster: ClusterConfig, finished: (@Sendable (String, String) -> Void)? = nil,
                      artifacts: (any ArtifactStore)? = nil, log: @escaping @Sendable (String) -> Void) throws -> SessionController {
        var configuration = SessionController.Configuration(
            environment: environment(platform, flags: flags, cluster: cluster),
            pricing: Dictionary(platform.models.map { ($0.name, $0.pricing) }, uniquingKeysWith: { first, _ in first }),
            resyncInterval: flags.resync, workers: flags.workers, log: log)
        configuration.finished = finished
        configuration.retentionInterval = flags.retentionInterval
        if let store = flags.artifacts.map({ LocalArtifactStore(root: $0) as any ArtifactStore }) ?? artifacts { useArtifacts(store, in: &configuration) }
        let client = KubeClient(config: cluster, fieldManager: "tenantry-controller")
        let box = ControllerBox()
        let notifications = try NotifyFlags.prepare(flags.notify, platform: platform, client: client, configuration: &configuration,
                                                    controller: box, environment: ProcessInfo.processInfo.environment, log: log)
        let controller = SessionController(client: client, configuration: configuration)
        box.set(controller)
        controller.start()
        notifications?.start(beside: controller, log: log)
        return controller
    }

    /// The runner pods' environment. On the embedded local cluster (the kubeconfig it writes, context `tenantry-local`)
    /// images are not pulled and a container is its command, so the runner is this executable unless told otherwise.
    static func environment(_ platform: Platform, flags: Flags, cluster: ClusterConfig) -> RunnerEnvironment {
        var command = flags.runnerCommand.map { [$0] }
        if command == nil, isEmbedded(cluster) { command = [executablePath()] }
        return RunnerEnvironment(runners: platform.runners, gitBaseURL: flags.gitBaseURL, apiURL: flags.apiURL, modelCredentialsSecret: flags.modelSecret,
                                 containers: platform.defaults.containers, runnerCommand: command)
    }

    static func isEmbedded(_ cluster: ClusterConfig) -> Bool {
        cluster.source == "context tenantry-local" || cluster.source.hasPrefix("local cluster")
    }

    /// This process's executable, resolved (argv[0] may be relative or a symlink).
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Until SIGTERM or SIGINT, or `ended` is signalled.
    static func waitForTermination(or ended: DispatchSemaphore = DispatchSemaphore(value: 0)) {
        for number in [SIGTERM, SIGINT] { signal(number, SIG_IGN) }
        defer { for number in [SIGTERM, SIGINT] { signal(number, SIG_DFL) } }
        let done = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "tenantry.controller.signals")
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { done.signal() }
            source.resume()
            return source
        }
        Thread.detachNewThread { ended.wait(); done.signal() }
        done.wait()
        ended.signal()  // lets that thread go when a signal came first
        for source in sources { source.cancel() }
    }
}
