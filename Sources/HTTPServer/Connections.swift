import Foundation
import Synchronization

/// One open connection, from libmicrohttpd's open hook to its close hook.
/// Unchecked: the mutable fields are read and written only with `Connections`' lock held.
final class Connection: @unchecked Sendable {
    enum Phase: Equatable {
        /// Waiting for a request's headers until the deadline (uptime nanoseconds).
        case headers(deadline: UInt64)
        case body(deadline: UInt64)
        /// A handler or a response owns the connection; no deadline.
        case answering
        /// Between requests: libmicrohttpd's idle timeout applies.
        case idle
    }

    let socket: Int32
    let client: String
    /// Set when the connection opened beyond a cap: its first request is answered with this.
    let overflow: HTTPServer.Refusal?
    var phase: Phase
    var requests = 0
    /// When the server answered a deadline itself; the connection is closed for good soon after.
    var cutAt: UInt64?
    /// The request being read (owned here so it is freed with the connection whatever happens).
    var current: RequestState?

    init(socket: Int32, client: String, overflow: HTTPServer.Refusal?, phase: Phase) {
        self.socket = socket
        self.client = client
        self.overflow = overflow
        self.phase = phase
    }
}

/// Every open connection: the counts the caps need, and the deadlines a sweeper thread enforces. libmicrohttpd's
/// own timeout is idle-only (a byte a second keeps a connection forever), so headers and bodies get deadlines
/// here; when one passes, the sweeper writes the 408 straight to the socket (nothing else writes to it before
/// headers are complete or while a body is arriving) and shuts the sending side. Over TLS it can only close.
final class Connections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: Connection] = [:]
        var perClient: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let configuration: HTTPServer.Configuration
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// A cut connection whose client neither closes nor stops sending is closed this long after the 408.
    private static let lingerNanoseconds: UInt64 = 2_000_000_000

    init(configuration: HTTPServer.Configuration) {
        self.configuration = configuration
        let interval = max(0.01, min(0.25, min(configuration.headerTimeoutSeconds, configuration.bodyTimeoutSeconds) / 4))
        let thread = Thread { [self] in
            while wake.wait(timeout: .now() + interval) == .timedOut { sweep() }
            finished.signal()
        }
        thread.name = "http-deadlines"
        thread.start()
    }

    var count: Int { state.withLock { $0.open.count } }

    func opened(socket: Int32, client: String) -> Connection {
        state.withLock { state in
            let total = state.open.count + 1
            let fromClient = state.perClient[client, default: 0] + 1
            var overflow: HTTPServer.Refusal?
            if total > configuration.maxConnections {
                overflow = .tooManyConnections(limit: configuration.maxConnections, perClient: false)
            } else if fromClient > configuration.maxConnectionsPerClient {
                overflow = .tooManyConnections(limit: configuration.maxConnectionsPerClient, perClient: true)
            }
            let connection = Connection(socket: socket, client: client, overflow: overflow,
                                        phase: .headers(deadline: Self.after(configuration.headerTimeoutSeconds)))
            state.open[ObjectIdentifier(connection)] = connection
            state.perClient[client] = fromClient
            return connection
        }
    }

    func closed(_ connection: Connection) {
        state.withLock { state in
            state.open.removeValue(forKey: ObjectIdentifier(connection))
            let left = state.perClient[connection.client, default: 1] - 1
            state.perClient[connection.client] = left > 0 ? left : nil
            connection.current = nil
        }
    }

    /// A request line arrived: a later request on a kept-alive connection gets its header deadline from now.
    func requestStarted(_ connection: Connection, _ request: RequestState) {
        state.withLock { _ in
            if connection.requests > 0 && connection.cutAt == nil {
                connection.phase = .headers(deadline: Self.after(configuration.headerTimeoutSeconds))
            }
            connection.requests += 1
            connection.current = request
        }
    }

    /// Headers are complete; false if the deadline already cut the connection.
    func headersComplete(_ connection: Connection) -> Bool {
        state.withLock { _ in
            guard connection.cutAt == nil else { return false }
            connection.phase = .body(deadline: Self.after(configuration.bodyTimeoutSeconds))
            return true
        }
    }

    /// The body is complete and a handler (or an answer) takes over; false if the deadline cut it first.
    func answering(_ connection: Connection) -> Bool {
        state.withLock { _ in
            guard connection.cutAt == nil else { return false }
            connection.phase = .answering
            return true
        }
    }

    func isCut(_ connection: Connection) -> Bool { state.withLock { _ in connection.cutAt != nil } }

    func requestCompleted(_ connection: Connection) {
        state.withLock { _ in
            if connection.cutAt == nil { connection.phase = .idle }
            connection.current = nil
        }
    }

    func stop() {
        wake.signal()
        finished.wait()
    }

    /// Cuts every connection past its deadline. Writes happen with the lock held, so libmicrohttpd cannot close
    /// (and the kernel cannot reuse) the socket in between: its close hook takes the same lock first.
    private func sweep() {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { state in
            for connection in state.open.values {
                if let cutAt = connection.cutAt {
                    if now > cutAt + Self.lingerNanoseconds, connection.phase != .answering {
                        shutdown(connection.socket, Int32(SHUT_RDWR))
                        connection.phase = .answering
                    }
                    continue
                }
                let refusal: HTTPServer.Refusal
                switch connection.phase {
                case .headers(let deadline) where now > deadline:
                    refusal = .headersTimeout(seconds: configuration.headerTimeoutSeconds)
                case .body(let deadline) where now > deadline:
                    refusal = .bodyTimeout(seconds: configuration.bodyTimeoutSeconds)
                default:
                    continue
                }
                connection.cutAt = now
                if configuration.tls != nil {
                    shutdown(connection.socket, Int32(SHUT_RDWR))
                    continue
                }
                let bytes = Wire.bytes(configuration.refusal(refusal), closing: true)
                bytes.withUnsafeBytes { _ = send(connection.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                shutdown(connection.socket, Int32(SHUT_WR))
            }
        }
    }

    private static func after(_ seconds: Double) -> UInt64 {
        DispatchTime.now().uptimeNanoseconds + UInt64(max(seconds, 0) * 1e9)
    }
}

/// A response as bytes on the wire, for answers written without libmicrohttpd (the deadline sweeper's).
enum Wire {
    static func bytes(_ response: Response, closing: Bool) -> Data {
        guard case .bytes(let body) = response.body else { return Data() }
        var head = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key })
        where !["content-length", "connection"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n"
        if closing { head += "Connection: close\r\n" }
        return Data((head + "\r\n").utf8) + body
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 431: "Request Header Fields Too Large"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }
}
