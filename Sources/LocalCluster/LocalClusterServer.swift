import Foundation
import HTTPServer
import Model

/// A running local cluster: the API server on 127.0.0.1, its SQLite store in `directory`, the bearer
/// token, and a kubeconfig that points kubectl (or Tenantry's own client) at it.
public final class LocalClusterServer: Sendable {
    public struct Options: Sendable {
        /// Change events kept for watches and continue tokens (older ones answer 410 Gone).
        public var eventRetention = 10_000
        /// Serve HTTPS (the default: kubectl sends tokens only over TLS) or plain HTTP, for in-process
        /// clients that cannot trust a custom CA. Both require the bearer token.
        public var tls = true
        /// Concurrent writers share fsyncs (the default); false makes every commit wait for its own,
        /// the figure the benchmark compares against. Either way a write is acknowledged only once durable.
        public var groupCommit = true
        /// Pods running at once on the local node; the rest wait Pending (Unschedulable). Default: cores × 8.
        public var maxRunningPods = ProcessInfo.processInfo.activeProcessorCount * 8
        /// First delay before a failed Job Pod is replaced, doubling per failure up to 6 minutes (Kubernetes: 10 s).
        public var jobBackoffSeconds: Double = 10
        /// First delay before a container restarts (restartPolicy OnFailure/Always), doubling up to 5 minutes (Kubernetes: 10 s).
        public var crashLoopBackOffSeconds: Double = 10
        /// Issues the token a Pod finds in its ServiceAccount directory; default: the cluster's own bound token.
        public var serviceAccountToken: ServiceAccountTokenSource?
        /// Connections held at once; beyond it the first request of a connection gets 503.
        public var maxConnections = 16_384
        /// Request headers not complete this long after the request began, or a body this long after its
        /// headers, get 408 (a watch, once its headers are in, has no deadline).
        public var headerTimeoutSeconds: Double = 10
        public var bodyTimeoutSeconds: Double = 10
        public init() {}
    }

    /// Makes a Pod's ServiceAccount token: (namespace, serviceAccount, podName, podUID) → JWT.
    /// nil when the Pod gets no token (its ServiceAccount does not exist).
    /// `audiences` empty: the API server's own (the ServiceAccount directory); a projected source's `audience` otherwise.
    public typealias ServiceAccountTokenSource = @Sendable (_ namespace: String, _ serviceAccount: String, _ podName: String, _ podUID: String,
                                                            _ audiences: [String]) throws -> String?

    /// `https://127.0.0.1:PORT` (or http:// without TLS)
    public let url: String
    /// The server's self-signed certificate (PEM), which clients trust as the CA; nil without TLS.
    public let certificatePEM: String?
    public let port: UInt16
    public let token: String
    public let kubeconfigPath: String
    public let directory: String
    /// Test-only switch for latency, 429, 500 and dropped watches; off until a test injects a fault.
    public let faults: FaultInjection
    /// Signs ServiceAccount tokens (the local node's projected tokens use `issue`).
    public let serviceAccountTokens: ServiceAccountTokenIssuer
    private let http: HTTPServer
    private let store: Store
    private let lock: DirectoryLock
    private let controllers: ControllerLoop
    private let kubelet: Kubelet

    /// Opens (or creates) the store in `directory` and starts serving. Port 0 picks a free port.
    public static func start(directory: String, port: UInt16 = 0, options: Options = Options()) throws -> LocalClusterServer {
        try LocalClusterServer(directory: directory, port: port, options: options)
    }

    private init(directory: String, port: UInt16, options: Options) throws {
        let files = ClusterFiles(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        lock = try DirectoryLock(files)
        try files.securePermissions()
        store = try Store(path: files.database, eventRetention: Int64(options.eventRetention), groupCommit: options.groupCommit)
        token = try files.loadOrCreateToken()
        serviceAccountTokens = ServiceAccountTokenIssuer(key: try files.loadOrCreateSigningKey(), store: store)
        let registry = ResourceRegistry()
        registry.reload(crds: try store.read { try $0.list(.customResourceDefinitions, namespace: nil, after: nil, limit: Int.max) })
        try Self.bootstrap(store)
        faults = FaultInjection()

        var configuration = HTTPServer.Configuration()
        configuration.port = port
        configuration.tls = options.tls ? try files.loadOrCreateIdentity() : nil
        certificatePEM = configuration.tls?.certificatePEM
        // Every client of a loopback-only server has the same address, so the per-client cap is the overall one.
        configuration.maxConnections = options.maxConnections
        configuration.maxConnectionsPerClient = options.maxConnections
        configuration.headerTimeoutSeconds = options.headerTimeoutSeconds
        configuration.bodyTimeoutSeconds = options.bodyTimeoutSeconds
        configuration.refusal = { refusal in APIError.answer(to: refusal) }
        let box = HandlerBox()
        http = try HTTPServer(configuration) { request in box.handle(request) }
        self.port = http.port
        url = "\(options.tls ? "https" : "http")://127.0.0.1:\(http.port)"
        self.directory = directory
        kubeconfigPath = files.kubeconfig
        let api = APIServer(store: store, registry: registry, adminToken: token, tokens: serviceAccountTokens, faults: faults,
                            address: "127.0.0.1:\(http.port)")
        // A Pod's projected token is a real bound ServiceAccount token from the cluster's issuer, unless a test injects one.
        let issuer = serviceAccountTokens
        let tokenSource = options.serviceAccountToken ?? { namespace, account, pod, uid, audiences in
            try issuer.issueIfAccountExists(namespace: namespace, serviceAccount: account, boundPod: (name: pod, uid: uid), audiences: audiences)
        }
        (controllers, kubelet) = try Self.startControllers(api, options: options, tokenSource: tokenSource, port: http.port, certificatePEM: certificatePEM)
        box.server = api
        try files.writeKubeconfig(url: url, token: token, certificatePEM: certificatePEM)
        try files.writePID(port: http.port)
    }

    /// Commits so far and the fsyncs they shared; nil without group commit.
    public var syncCounts: (commits: UInt64, syncs: UInt64)? { store.syncCounts }

    /// The garbage collector, the job controller and the node, on one thread fed by the store's events.
    private static func startControllers(_ api: APIServer, options: Options, tokenSource: @escaping ServiceAccountTokenSource, port: UInt16, certificatePEM: String?) throws -> (ControllerLoop, Kubelet) {
        let maxPods = max(1, options.maxRunningPods)
        try Kubelet.registerNode(api.store, maxPods: maxPods)
        let store = api.store
        let context = PodRuntime.Context(
            files: PodFiles(databasePath: store.path), apiPort: port, apiScheme: options.tls ? "https" : "http", certificatePEM: certificatePEM,
            tokenSource: tokenSource,
            lookup: { kind, namespace, name in
                try store.read { transaction in
                    guard let object = try transaction.get(kind == "Secret" ? .secrets : .configMaps, namespace: namespace, name: name) else { return nil }
                    return PodEnvironment.data(of: object, secret: kind == "Secret")
                }
            },
            crashLoopBase: options.crashLoopBackOffSeconds)
        let loop = ControllerLoop(api: api)
        let index = OwnershipIndex()
        let kubelet = Kubelet(api: api, files: context.files, maxPods: maxPods, context: context)
        loop.register(GarbageCollector.name, GarbageCollector(index: index))
        loop.register(JobController.name, JobController(index: index, backoffBase: options.jobBackoffSeconds))
        loop.register(Kubelet.name, kubelet)
        loop.start()
        return (loop, kubelet)
    }

    /// Ends watches, waits for open requests, and releases the directory. Safe to call twice.
    public func stop() {
        store.changes.close()
        controllers.stop()
        kubelet.stop()
        http.stop()
        lock.release()
    }

    /// The namespaces every cluster has (kubectl writes to `default` unless told otherwise) and the
    /// bootstrap RBAC policy.
    private static func bootstrap(_ store: Store) throws {
        let now = WriteRequest.timestamp(Date())
        try store.write { transaction in
            try BootstrapPolicy.write(transaction, now: now)
            for name in ["default", "kube-system", "kube-public", "kube-node-lease"]
            where try transaction.get(.namespaces, namespace: "", name: name) == nil {
                let version = String(try transaction.nextResourceVersion())
                let namespace: JSON = ["apiVersion": "v1", "kind": "Namespace",
                                       "metadata": ["name": .string(name), "uid": .string(UUID().uuidString.lowercased()),
                                                    "resourceVersion": .string(version), "generation": 1, "creationTimestamp": .string(now),
                                                    "labels": ["kubernetes.io/metadata.name": .string(name)]],
                                       "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"]]
                try transaction.put(.namespaces, namespace, previous: nil)
            }
        }
    }
}

/// Lets the HTTP handler exist before the API server it calls (the server needs the bound port).
/// A request that arrives in between waits the few microseconds until the server is set, so a client
/// reconnecting to a restarted cluster never sees a half-started one.
private final class HandlerBox: @unchecked Sendable {
    // Unchecked: `current` is touched only with `ready` locked.
    private let ready = NSCondition()
    private var current: APIServer?

    var server: APIServer? {
        get { ready.withLock { current } }
        set {
            ready.withLock {
                current = newValue
                ready.broadcast()
            }
        }
    }

    func handle(_ request: Request) -> Response {
        let server = ready.withLock { () -> APIServer in
            while current == nil { ready.wait() }
            return current!
        }
        return server.handle(request)
    }
}
