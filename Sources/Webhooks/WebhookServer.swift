import Foundation
import HTTPServer
import Model
import Synchronization

/// `tenantry serve` as an object: the HTTP server, the journal, the Session creator, the live-session
/// refresher and the tenant table, started together and stopped gracefully (in-flight requests finish,
/// unfinished journal entries stay for the next start).
public final class WebhookServer: Sendable {
    public struct Options: Sendable {
        public var port: UInt16 = 8080
        public var loopbackOnly = true
        public var journalPath: String
        public var secrets: WebhookSecrets
        public var writer: any SessionWriter
        /// Seconds between two listings of live Sessions (concurrency); 0 turns the refresher off.
        public var refreshInterval: TimeInterval = 5
        public var bodyLimits: [WebhookSource: Int]? = nil
        public var creatorWorkers = 4
        public var maxBackoff: TimeInterval = 5
        /// Idle connections are closed after this long (libmicrohttpd's connection timeout).
        public var idleTimeoutSeconds: UInt32 = 30
        /// Request headers not complete this long after the request began, or a body this long after its
        /// headers, get 408 at that moment (slow clients do not hold a connection).
        public var headerTimeoutSeconds: Double = 10
        public var bodyTimeoutSeconds: Double = 10
        /// Handler threads: at most this many deliveries are verified and journaled at once.
        public var workerThreads = 16
        /// Connections held in all and per client address; beyond either the first request gets 503. Listening on
        /// loopback only, every client has the same address, so only the overall cap applies.
        public var maxConnections = 16_384
        public var maxConnectionsPerClient = 4_096
        public var log: @Sendable (String) -> Void = { _ in }
        /// Also log a line per request (not only Session creation and failures).
        public var logRequests = true
        /// Plans pull requests on the tenant repository and posts the result on GitHub (`serve --plan-repo`).
        public var tenantRepoReviewer: (any PullRequestReviewer)? = nil
        /// Starts the reconcile of a repository this process follows, on a push to it (`serve --reconcile`).
        public var repositoryPushed: RepositoryPushed? = nil
        /// When a delivery is answered 202 (`serve --ack-after`), and how long `.cluster` waits for the Session.
        public var ackAfter: AckAfter = .journal
        public var clusterAckTimeout: TimeInterval = 10
        /// Told every admission decision before the delivery is answered (serve: the audit trail).
        public var admissionDecided: AdmissionDecided? = nil
        /// The largest request body of any handler mounted beside the webhooks (the runners' artifact uploads).
        public var mountedBodyLimit = 0

        public init(journalPath: String, secrets: WebhookSecrets, writer: any SessionWriter) {
            self.journalPath = journalPath
            self.secrets = secrets
            self.writer = writer
        }
    }

    public let service: WebhookService
    public let port: UInt16
    /// Journal entries found unfinished at start and queued again.
    public let replayed: Int
    private let http: HTTPServer
    private let refresher: Refresher?
    private let stopped = Mutex(false)
    private let mounted: MountedHandlers

    public init(options: Options, table: TenantTable?) throws {
        let journal = try Journal(path: options.journalPath)
        let metrics = WebhookMetrics()
        let creator = SessionCreator(writer: options.writer, journal: journal, metrics: metrics, workers: options.creatorWorkers,
                                     maxBackoff: options.maxBackoff, log: options.log)
        var configuration = WebhookService.Configuration(secrets: options.secrets)
        if let limits = options.bodyLimits { configuration.bodyLimits = limits }
        configuration.log = options.logRequests ? options.log : nil
        configuration.tenantRepoReviewer = options.tenantRepoReviewer
        configuration.repositoryPushed = options.repositoryPushed
        configuration.ackAfter = options.ackAfter
        configuration.clusterAckTimeout = options.clusterAckTimeout
        configuration.admissionDecided = options.admissionDecided
        let service = WebhookService(configuration: configuration, journal: journal, creator: creator, metrics: metrics)
        if let table { service.replaceTenantTable(table) }
        do {
            replayed = try service.replayJournal()
        } catch {
            journal.close()
            throw error
        }
        creator.start()

        var http = HTTPServer.Configuration()
        http.port = options.port
        http.loopbackOnly = options.loopbackOnly
        http.maxBodyBytes = max(configuration.largestBodyLimit, options.mountedBodyLimit)
        http.idleTimeoutSeconds = options.idleTimeoutSeconds
        http.handlerThreads = options.workerThreads
        http.headerTimeoutSeconds = options.headerTimeoutSeconds
        http.bodyTimeoutSeconds = options.bodyTimeoutSeconds
        http.maxConnections = options.maxConnections
        http.maxConnectionsPerClient = options.loopbackOnly ? options.maxConnections : options.maxConnectionsPerClient
        let log = options.log
        http.refusal = { refusal in WebhookFailure.answer(to: refusal, log: log) }
        let mounted = MountedHandlers()
        self.mounted = mounted
        do {
            self.http = try HTTPServer(http) { request in
                for handler in mounted.handlers.withLock({ $0 }) { if let answer = handler(request) { return answer } }
                return service.handle(request)
            }
        } catch {
            creator.stop()
            journal.close()
            throw error
        }
        self.service = service
        port = self.http.port
        refresher = options.refreshInterval > 0 ? Refresher(interval: options.refreshInterval) { service.refreshLiveSessions(using: options.writer) } : nil
    }

    /// Serves another handler's paths (it answers nil for those it does not have) before the webhooks' own, e.g.
    /// the Sessions API; handlers are asked in the order mounted.
    public func mount(_ handler: @escaping @Sendable (Request) -> Response?) { mounted.handlers.withLock { $0.append(handler) } }

    /// A Session reached a final phase: its slot under `maxConcurrentSessions` is free at once.
    public func sessionFinished(namespace: String, name: String) { service.journal.markFinished(namespace: namespace, session: name) }

    /// Connections open now (for benchmarks and tests).
    public var openConnections: Int { http.openConnections }

    /// Swaps in a new revision's tenant table (after a reconcile); in-flight requests finish with the old one.
    public func replaceTenantTable(_ table: TenantTable) { service.replaceTenantTable(table) }

    /// Stops accepting, waits for requests in flight (each already journaled or refused), then stops the
    /// creator and closes the journal. Safe to call twice.
    public func stop() {
        guard stopped.withLock({ was in defer { was = true }; return !was }) else { return }
        http.stop()
        refresher?.stop()
        service.creator.stop()
        service.journal.close()
    }

    deinit { stop() }
}

/// The handlers mounted beside the webhooks (shared by the server and the HTTP callback).
final class MountedHandlers: Sendable {
    let handlers = Mutex<[@Sendable (Request) -> Response?]>([])
}

/// Calls `body` every `interval` seconds on its own thread until stopped.
final class Refresher: Sendable {
    private let state = Mutex(false)
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init(interval: TimeInterval, body: @escaping @Sendable () -> Void) {
        // Holds self until `stop`, which the owner always calls.
        let thread = Thread { [self] in
            while !state.withLock({ $0 }) {
                body()
                _ = wake.wait(timeout: .now() + interval)
            }
            done.signal()
        }
        thread.name = "webhook-refresher"
        thread.start()
    }

    func stop() {
        state.withLock { $0 = true }
        wake.signal()
        done.wait()
    }
}
