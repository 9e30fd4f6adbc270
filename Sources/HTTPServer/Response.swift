import Foundation

/// What a handler answers: a status, headers, and either bytes or a stream written as it is produced.
public struct Response: Sendable, Hashable {
    public var status: Int
    public var headers: [String: String]
    public var body: Body

    public enum Body: Sendable, Hashable {
        case bytes(Data)
        /// Written chunk by chunk (HTTP/1.1 chunked encoding) until the stream ends or the client goes away.
        case stream(ResponseStream)
    }

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    public init(status: Int, headers: [String: String] = [:], stream: ResponseStream) {
        self.status = status
        self.headers = headers
        self.body = .stream(stream)
    }
}

/// A response body produced over time, such as a watch. `next` may block until it has data; it returns
/// nil at the end. `cancel` is called once when the server stops or the connection closes, so that a
/// blocked `next` can return. Both are public so a handler can wrap another's stream.
public final class ResponseStream: Sendable, Hashable {
    public let next: @Sendable () -> Data?
    public let cancel: @Sendable () -> Void

    public init(next: @escaping @Sendable () -> Data?, cancel: @escaping @Sendable () -> Void) {
        self.next = next
        self.cancel = cancel
    }

    public static func == (lhs: ResponseStream, rhs: ResponseStream) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
