import CTenantry
import Foundation

/// A libmicrohttpd connection handle that crosses threads: resuming is the one call made on it from elsewhere,
/// and libmicrohttpd allows it from any thread while the connection is suspended.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    func suspend() { MHD_suspend_connection(pointer) }
    func resume() { MHD_resume_connection(pointer) }
}

/// A streaming body (a watch) pumped by a thread of its own: `next` may block for minutes, which an event thread
/// must never do. The reader hands libmicrohttpd what is pending; with nothing pending it suspends the connection
/// and the pump resumes it when the next chunk (or the end) arrives.
/// Unchecked: the mutable fields are read and written only with `condition` locked.
final class StreamPump: @unchecked Sendable {
    let stream: ResponseStream
    private let connection: ConnectionHandle
    private let context: ServerContext
    private let condition = NSCondition()
    private var pending = Data()
    private var ended = false
    private var suspended = false
    private var freed = false
    /// The pump stops asking for more while this much is waiting to be sent to a slow client.
    private static let highWater = 1 << 20

    init(stream: ResponseStream, connection: ConnectionHandle, context: ServerContext) {
        self.stream = stream
        self.connection = connection
        self.context = context
    }

    /// Starts the pump thread; `done` runs when it has ended and no longer touches the connection.
    func start(done: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            pump()
            done()
        }
        thread.name = "http-stream"
        thread.start()
    }

    private func pump() {
        while true {
            condition.lock()
            while pending.count >= Self.highWater && !freed { condition.wait() }
            let stop = freed
            condition.unlock()
            let chunk = stop ? nil : stream.next()
            condition.lock()
            if let chunk { pending.append(chunk) } else { ended = true }
            if suspended {
                suspended = false
                connection.resume()
            }
            condition.unlock()
            if chunk == nil { return }
        }
    }

    /// libmicrohttpd's content reader: bytes copied, -1 at the end, or 0 after suspending until there is more.
    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        condition.withLock {
            if !pending.isEmpty {
                let count = min(max, pending.count)
                pending.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: count) }
                pending.removeFirst(count)
                condition.broadcast()
                return count
            }
            if ended { return -1 }
            suspended = true
            connection.suspend()
            return 0
        }
    }

    /// The response is gone (sent, or the client left): the pump must end without touching the connection.
    func free() {
        condition.withLock {
            freed = true
            condition.broadcast()
        }
        stream.cancel()
        context.freed(self)
    }
}
