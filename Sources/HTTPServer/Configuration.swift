import Foundation

extension HTTPServer {
    public struct Configuration: Sendable {
        /// 0 asks the kernel for a free port; `port` tells which one it gave.
        public var port: UInt16 = 0
        /// Listen on 127.0.0.1 only (the default) or on every IPv4 address.
        public var loopbackOnly = true
        /// Serve HTTPS with this certificate and key; nil serves plain HTTP.
        public var tls: TLSIdentity? = nil

        /// Threads running libmicrohttpd's epoll loops; they only move bytes, never run a handler.
        public var eventThreads = 2
        /// At most this many handlers run at once (threads started as needed); more requests wait their turn.
        /// Streaming bodies (watches) get a thread each, outside this count.
        public var handlerThreads = 128

        /// Connections held at once in all, and from one client address. A connection beyond either is answered
        /// 503 (`Refusal.tooManyConnections`) on its first request and closed. libmicrohttpd itself refuses at
        /// accept (no answer) only beyond these plus `overflowConnections`, which bounds what the 503s cost.
        public var maxConnections = 16_384
        public var maxConnectionsPerClient = 4_096
        public var overflowConnections = 1_024

        /// Larger request bodies are not handed to the handler: 413. With `Expect: 100-continue` the 413 is sent
        /// at once, without `100 Continue`; otherwise the body is read and dropped, then answered 413.
        public var maxBodyBytes = 3 * 1024 * 1024
        /// Request headers larger than this in all, or more header fields than `maxHeaderCount`, get 431.
        /// libmicrohttpd's own memory pool per connection is `headerPoolBytes`; headers that do not fit even
        /// there get libmicrohttpd's HTML 431 (it cannot be replaced), so the pool is kept well above the limit.
        public var maxHeaderBytes = 32 * 1024
        public var maxHeaderCount = 100
        public var headerPoolBytes: Int { max(maxHeaderBytes * 4, 64 * 1024) }

        /// A connection's first request must have sent all its headers this long after the connection opened,
        /// and each later one this long after its request line arrived; otherwise 408 and the connection closes.
        public var headerTimeoutSeconds: Double = 10
        /// A body still incomplete this long after its headers is answered 408 at that moment.
        public var bodyTimeoutSeconds: Double = 10
        /// A connection with nothing to do (no bytes either way, no request in progress) closes after this long.
        public var idleTimeoutSeconds: UInt32 = 60

        /// The answer to each refusal the server makes before a handler sees the request. Servers give their own
        /// error format here (with a trace id); the default is a small JSON object.
        public var refusal: @Sendable (Refusal) -> Response = { refusal in
            let body = "{\"error\":\"\(refusal.code)\",\"message\":\"\(refusal.message)\"}"
            return Response(status: refusal.status, headers: ["Content-Type": "application/json"], body: Data(body.utf8))
        }

        public init() {}
    }

    /// Why the server answered without calling the handler.
    public enum Refusal: Sendable, Hashable {
        case tooManyConnections(limit: Int, perClient: Bool)
        case headersTooLarge(maxBytes: Int, maxCount: Int)
        case headersTimeout(seconds: Double)
        case bodyTimeout(seconds: Double)
        case payloadTooLarge(limit: Int)
        /// The server is stopping and runs no new handler.
        case stopping

        public var status: Int {
            switch self {
            case .tooManyConnections, .stopping: 503
            case .headersTooLarge: 431
            case .headersTimeout, .bodyTimeout: 408
            case .payloadTooLarge: 413
            }
        }

        /// A snake_case name for error bodies.
        public var code: String {
            switch self {
            case .tooManyConnections: "too_many_connections"
            case .stopping: "unavailable"
            case .headersTooLarge: "headers_too_large"
            case .headersTimeout, .bodyTimeout: "request_timeout"
            case .payloadTooLarge: "payload_too_large"
            }
        }

        /// What happened and what to do, in one sentence.
        public var message: String {
            switch self {
            case .tooManyConnections(let limit, let perClient):
                perClient ? "this client address already holds \(limit) connections, the most it may; reuse or close some and retry"
                    : "the server already holds \(limit) connections, the most it takes; retry shortly"
            case .stopping: "the server is stopping; retry shortly"
            case .headersTooLarge(let bytes, let count):
                "the request headers exceed \(bytes) bytes or \(count) fields, the most this server reads"
            case .headersTimeout(let seconds):
                "the request headers were not complete \(Self.seconds(seconds)) seconds after the request began; send them at once"
            case .bodyTimeout(let seconds):
                "the request body was not complete \(Self.seconds(seconds)) seconds after its headers; send it at once"
            case .payloadTooLarge(let limit): "the request body is larger than \(limit) bytes, the most this server reads"
            }
        }

        private static func seconds(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
    }
}
