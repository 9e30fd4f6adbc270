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
        /// Connections held at once; beyond it the first request of a connection gets 503.
        public var maxConnections = 16_384
        /// Request headers not complete this long after the request began, or a body this long after its
        /// headers, get 408 (a watch, once its headers are in, has no deadline).
        public var headerTimeoutSeconds: Double = 10
        public var bodyTimeoutSeconds: Double = 10
        public init() {}
    }

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
    private let http: HTTPServer
    private let store: Store
    private let lock: DirectoryLock

    /// Opens (or creates) the store in `directory` and starts serving. Port 0 picks a free port.
    public static func start(directory: String, port: UInt16 = 0, options: Options = Options()) throws -> LocalClusterServer {
        try LocalClusterServer(directory: directory, port: port, options: options)
    }

    private init(directory: String, port: UInt16, options: Options) throws {
        let files = ClusterFiles(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        lock = try DirectoryLock(files)
        store = try Store(path: files.database, eventRetention: Int64(options.eventRetention))
        token = try files.loadOrCreateToken()
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
        box.server = APIServer(store: store, registry: registry, token: token, faults: faults, address: "127.0.0.1:\(http.port)")
        try files.writeKubeconfig(url: url, token: token, certificatePEM: certificatePEM)
        try files.writePID(port: http.port)
    }

    /// Ends watches, waits for open requests, and releases the directory. Safe to call twice.
    public func stop() {
        store.changes.close()
        http.stop()
        lock.release()
    }

    /// The namespaces every cluster has; kubectl writes to `default` unless told otherwise.
    private static func bootstrap(_ store: Store) throws {
        let now = WriteRequest.timestamp(Date())
        try store.write { transaction in
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
