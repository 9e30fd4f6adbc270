import CTenantry
import Foundation
import Synchronization

/// An HTTP/1.1 server over libmicrohttpd. A few event threads poll every connection with epoll and only move
/// bytes; handlers run on a bounded set of handler threads and streaming bodies (watches) on a thread each, the
/// connection suspended meanwhile. So ten thousand idle connections cost a socket each, a slow handler holds up
/// no one else, and the server answers its own refusals (caps, deadlines, sizes) without calling the handler.
public final class HTTPServer: Sendable {
    public let port: UInt16
    private let daemon: Daemon
    private let context: ServerContext

    /// Starts listening at once; the handler is called on handler threads, concurrently.
    public init(_ configuration: Configuration, handler: @escaping @Sendable (Request) -> Response) throws(HTTPServerError) {
        let descriptors = FileDescriptorLimit.raised
        let context = ServerContext(configuration: configuration, handler: handler)
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        // MHD keeps the PEM pointers it is given, so the copies live as long as the daemon.
        let certificate = configuration.tls.map { strdup($0.certificatePEM) } ?? nil
        let key = configuration.tls.map { strdup($0.privateKeyPEM) } ?? nil
        // The hard ceiling: the caps plus room for the connections answered 503, within the descriptors we have.
        let ceiling = min(configuration.maxConnections + configuration.overflowConnections, max(descriptors - 64, 16))
        let perClientCeiling = min(configuration.maxConnectionsPerClient + configuration.overflowConnections, ceiling)
        let daemon = ctenantry_mhd_start(configuration.port, configuration.loopbackOnly ? 1 : 0, UInt32(max(configuration.eventThreads, 1)),
                                         accessHandler, opaque, requestCompleted, connectionNotified, requestStarted,
                                         configuration.idleTimeoutSeconds, UInt32(ceiling), UInt32(perClientCeiling),
                                         configuration.headerPoolBytes, certificate, key)
        let code = errno
        guard let started = daemon else {
            free(certificate)
            free(key)
            context.stop()
            throw HTTPServerError.cannotListen(port: configuration.port, code: code, message: String(cString: strerror(code)))
        }
        self.daemon = Daemon(started, keeping: [certificate, key])
        self.context = context
        self.port = ctenantry_mhd_bound_port(started)
    }

    /// Connections open now (for benchmarks and tests that wait for a number of clients).
    public var openConnections: Int { context.connections.count }

    /// Ends open streams, lets running handlers finish (new requests get 503), then closes every connection.
    /// Safe to call twice.
    public func stop() {
        guard context.beginStopping() else { return }
        context.handlers.stop()
        context.waitForStreams()
        daemon.stop()
        context.stop()
    }

    deinit { stop() }
}

public enum HTTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
    case cannotListen(port: UInt16, code: Int32, message: String)

    public var description: String {
        switch self {
        case .cannotListen(let port, let code, let message):
            let which = port == 0 ? "a free port" : "port \(port)"
            return "cannot listen on \(which) (errno \(code): \(message)); choose another port with --port or stop the process that holds it"
        }
    }
}

/// Owns the MHD daemon handle. Unchecked: the handle is read and cleared only under the lock.
private final class Daemon: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: OpaquePointer?
    /// C strings MHD points into (the TLS certificate and key), freed once it has stopped.
    private var kept: [UnsafeMutablePointer<CChar>?]

    init(_ handle: OpaquePointer, keeping kept: [UnsafeMutablePointer<CChar>?]) {
        self.handle = handle
        self.kept = kept
    }

    func stop() {
        let (taken, strings) = lock.withLock { () -> (OpaquePointer?, [UnsafeMutablePointer<CChar>?]) in
            defer { handle = nil; kept = [] }
            return (handle, kept)
        }
        if let taken { MHD_stop_daemon(taken) }
        strings.forEach { free($0) }
    }
    deinit { stop() }
}

/// What the C callbacks reach through their `cls` pointer.
final class ServerContext: Sendable {
    let configuration: HTTPServer.Configuration
    let handler: @Sendable (Request) -> Response
    let handlers: HandlerThreads
    let connections: Connections
    /// Pumps whose thread runs (`pumping`) and whose response libmicrohttpd has not freed yet (`sending`).
    private let streams = Mutex<(stopping: Bool, pumping: [ObjectIdentifier: StreamPump], sending: Set<ObjectIdentifier>)>((false, [:], []))
    private let streamsChanged = NSCondition()

    init(configuration: HTTPServer.Configuration, handler: @escaping @Sendable (Request) -> Response) {
        self.configuration = configuration
        self.handler = handler
        handlers = HandlerThreads(limit: configuration.handlerThreads)
        connections = Connections(configuration: configuration)
    }

    /// Marks the server stopping and ends every stream; false if it already was.
    func beginStopping() -> Bool {
        guard let open = streams.withLock({ state -> [StreamPump]? in
            if state.stopping { return nil }
            state.stopping = true
            return Array(state.pumping.values)
        }) else { return false }
        for pump in open { pump.stream.cancel() }
        return true
    }

    /// Starts a stream's pump; false when the server is stopping and it must not start.
    func start(_ pump: StreamPump) -> Bool {
        let key = ObjectIdentifier(pump)
        let registered = streams.withLock { state in
            if state.stopping { return false }
            state.pumping[key] = pump
            state.sending.insert(key)
            return true
        }
        guard registered else { return false }
        pump.start { [self] in changeStreams { _ = $0.pumping.removeValue(forKey: key) } }
        return true
    }

    /// libmicrohttpd freed the stream's response: its end was sent, or the client left.
    func freed(_ pump: StreamPump) {
        changeStreams { _ = $0.sending.remove(ObjectIdentifier(pump)) }
    }

    /// Waits until every pump has ended (each resumed its connection), so none is left suspended at stop; then, for
    /// at most two seconds, until their last bytes are sent, so a client sees its stream end rather than break off.
    func waitForStreams() {
        let deadline = Date().addingTimeInterval(2)
        streamsChanged.withLock {
            while !streams.withLock({ $0.pumping.isEmpty }) { streamsChanged.wait() }
            while !streams.withLock({ $0.sending.isEmpty }), streamsChanged.wait(until: deadline) {}
        }
    }

    private func changeStreams(_ change: (inout (stopping: Bool, pumping: [ObjectIdentifier: StreamPump], sending: Set<ObjectIdentifier>)) -> Void) {
        streamsChanged.withLock {
            streams.withLock { change(&$0) }
            streamsChanged.broadcast()
        }
    }

    func stop() { connections.stop() }
}

/// One request while it is read and answered. Unchecked: `response` is written by the handler thread before it
/// resumes the connection and read by the event thread after; the lock orders the two.
final class RequestState: @unchecked Sendable {
    var headers: [String: String] = [:]
    var query: [String: String] = [:]
    var body = Data()
    var headersSeen = false
    var tooLarge = false
    var dispatched = false
    private let lock = NSLock()
    private var answer: Response?

    func set(_ response: Response) { lock.withLock { answer = response } }
    func take() -> Response? { lock.withLock { defer { answer = nil }; return answer } }
}
