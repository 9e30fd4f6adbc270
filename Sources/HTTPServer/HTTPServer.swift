import CTenantry
import Foundation
import Synchronization

/// An HTTP/1.1 server over libmicrohttpd. By default each connection gets its own thread, so a handler may
/// block and a streaming body (a watch) may wait for data without holding up other clients; with
/// `threadPoolSize` a fixed pool of workers serves every connection instead (for short requests, no streams).
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        /// 0 asks the kernel for a free port; `port` tells which one it gave.
        public var port: UInt16 = 0
        /// Listen on 127.0.0.1 only (the default) or on every IPv4 address.
        public var loopbackOnly = true
        /// Larger request bodies are not handed to the handler; `payloadTooLarge` answers instead.
        public var maxBodyBytes = 3 * 1024 * 1024
        /// A connection idle this long (no bytes either way) is closed. Streams must write more often.
        public var idleTimeoutSeconds: UInt32 = 60
        /// Serve HTTPS with this certificate and key; nil serves plain HTTP.
        public var tls: TLSIdentity? = nil
        /// Worker threads shared by all connections; nil gives each connection a thread of its own (which
        /// streaming responses need).
        public var threadPoolSize: Int? = nil
        /// A request whose body is still arriving this long after its headers is answered `requestTimeout`
        /// (a client that stops sending altogether is closed by the idle timeout instead); nil: no limit.
        public var bodyTimeoutSeconds: Double? = nil
        public var requestTimeout: @Sendable () -> Response = {
            Response(status: 408, headers: ["Content-Type": "text/plain", "Connection": "close"], body: Data("request body too slow\n".utf8))
        }
        public var payloadTooLarge: @Sendable (_ limit: Int) -> Response = { limit in
            Response(status: 413, headers: ["Content-Type": "text/plain"], body: Data("request body larger than \(limit) bytes\n".utf8))
        }
        public init() {}
    }

    public let port: UInt16
    private let daemon: Daemon
    private let context: ServerContext

    /// Starts listening at once; the handler is called on connection threads, concurrently.
    public init(_ configuration: Configuration, handler: @escaping @Sendable (Request) -> Response) throws(HTTPServerError) {
        let context = ServerContext(configuration: configuration, handler: handler)
        let pool = UInt32(max(configuration.threadPoolSize ?? 0, 0))
        let flags = pool > 0 ? UInt32(MHD_USE_INTERNAL_POLLING_THREAD.rawValue)
            : UInt32(MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_INTERNAL_POLLING_THREAD.rawValue)
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        // MHD keeps the PEM pointers it is given, so the copies live as long as the daemon.
        let certificate = configuration.tls.map { strdup($0.certificatePEM) } ?? nil
        let key = configuration.tls.map { strdup($0.privateKeyPEM) } ?? nil
        let daemon = ctenantry_mhd_start(flags, configuration.port, configuration.loopbackOnly ? 1 : 0, accessHandler, opaque,
                                         requestCompleted, opaque, configuration.idleTimeoutSeconds, certificate, key, pool)
        let code = errno
        let started: OpaquePointer
        do {
            started = try check(daemon, port: configuration.port, errno: code)
        } catch {
            free(certificate)
            free(key)
            throw error
        }
        self.daemon = Daemon(started, keeping: [certificate, key])
        self.context = context
        self.port = ctenantry_mhd_bound_port(started)
    }

    /// Ends open streams, then waits for every connection thread to finish. Safe to call twice.
    public func stop() {
        context.stopStreams()
        daemon.stop()
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

/// MHD reports a failed start only as NULL; errno, read right after the call, says why (EADDRINUSE…).
private func check(_ daemon: OpaquePointer?, port: UInt16, errno code: Int32) throws(HTTPServerError) -> OpaquePointer {
    guard let daemon else {
        throw HTTPServerError.cannotListen(port: port, code: code, message: String(cString: strerror(code)))
    }
    return daemon
}

/// Owns the MHD daemon handle; stopping joins the connection threads.
/// Unchecked: the handle is read and cleared only under the lock.
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
private final class ServerContext: Sendable {
    let configuration: HTTPServer.Configuration
    let handler: @Sendable (Request) -> Response
    private let streams = Mutex<(stopping: Bool, open: [ObjectIdentifier: ResponseStream])>((false, [:]))

    init(configuration: HTTPServer.Configuration, handler: @escaping @Sendable (Request) -> Response) {
        self.configuration = configuration
        self.handler = handler
    }

    /// Registers a stream; false when the server is stopping and it must not start.
    func open(_ stream: ResponseStream) -> Bool {
        streams.withLock { state in
            if state.stopping { return false }
            state.open[ObjectIdentifier(stream)] = stream
            return true
        }
    }

    func close(_ stream: ResponseStream) {
        _ = streams.withLock { $0.open.removeValue(forKey: ObjectIdentifier(stream)) }
        stream.cancel()
    }

    func stopStreams() {
        let open = streams.withLock { state in
            state.stopping = true
            return Array(state.open.values)
        }
        for stream in open { stream.cancel() }
    }
}

/// One request while it is being read.
private final class RequestState {
    var headers: [String: String] = [:]
    var query: [String: String] = [:]
    var body = Data()
    var tooLarge = false
    var tooSlow = false
    let started = DispatchTime.now().uptimeNanoseconds
}

/// A streaming body while it is being written: bytes the stream produced that MHD has not taken yet.
private final class StreamState {
    let stream: ResponseStream
    let context: ServerContext
    var pending = Data()
    init(stream: ResponseStream, context: ServerContext) {
        self.stream = stream
        self.context = context
    }
}

private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadDataSize, requestSlot in
    guard let cls, let connection, let requestSlot, let uploadDataSize else { return .NO }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    guard let slot = requestSlot.pointee else {
        // First call: headers are complete, the body has not been read.
        let state = RequestState()
        state.headers = connectionValues(connection, .HEADER_KIND, lowercased: true)
        state.query = connectionValues(connection, .GET_ARGUMENT_KIND, lowercased: false)
        if let length = state.headers["content-length"].flatMap(Int.init), length > context.configuration.maxBodyBytes {
            state.tooLarge = true
        }
        requestSlot.pointee = Unmanaged.passRetained(state).toOpaque()
        return .YES
    }
    let state = Unmanaged<RequestState>.fromOpaque(slot).takeUnretainedValue()
    if uploadDataSize.pointee > 0 {
        if let limit = context.configuration.bodyTimeoutSeconds,
           Double(DispatchTime.now().uptimeNanoseconds - state.started) / 1e9 > limit {
            state.tooSlow = true
            state.body = Data()
        }
        if !state.tooLarge, !state.tooSlow, let uploadData {
            state.body.append(UnsafeRawPointer(uploadData).assumingMemoryBound(to: UInt8.self), count: uploadDataSize.pointee)
            if state.body.count > context.configuration.maxBodyBytes {
                state.tooLarge = true
                state.body = Data()
            }
        }
        uploadDataSize.pointee = 0
        return .YES
    }
    let response: Response
    if state.tooLarge {
        response = context.configuration.payloadTooLarge(context.configuration.maxBodyBytes)
    } else if state.tooSlow {
        response = context.configuration.requestTimeout()
    } else {
        let request = Request(method: String(cString: method!), path: String(cString: url!), query: state.query,
                              headers: state.headers, body: state.body)
        response = context.handler(request)
    }
    return queue(response, on: connection, context: context)
}

private let requestCompleted: MHD_RequestCompletedCallback = { _, _, requestSlot, _ in
    guard let requestSlot, let slot = requestSlot.pointee else { return }
    Unmanaged<RequestState>.fromOpaque(slot).release()
    requestSlot.pointee = nil
}

private let headerCollector: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let box = Unmanaged<ValuesBox>.fromOpaque(cls).takeUnretainedValue()
    let name = box.lowercased ? String(cString: key).lowercased() : String(cString: key)
    let text = value.map { String(cString: $0) } ?? ""
    // A repeated header (kubectl sends one Impersonate-Group per --as-group) joins as one list, as
    // RFC 9110 §5.3 combines them; a repeated query argument keeps its last value.
    if box.lowercased, let earlier = box.values[name] { box.values[name] = earlier + ", " + text } else { box.values[name] = text }
    return .YES
}

private final class ValuesBox {
    let lowercased: Bool
    var values: [String: String] = [:]
    init(lowercased: Bool) { self.lowercased = lowercased }
}

private func connectionValues(_ connection: OpaquePointer, _ kind: MHD_ValueKind, lowercased: Bool) -> [String: String] {
    let box = ValuesBox(lowercased: lowercased)
    withExtendedLifetime(box) {
        _ = MHD_get_connection_values(connection, kind, headerCollector, Unmanaged.passUnretained(box).toOpaque())
    }
    return box.values
}

/// MHD_CONTENT_READER_END_OF_STREAM is a cast macro that Swift does not import.
private let endOfStream = -1

private let streamReader: MHD_ContentReaderCallback = { cls, _, buffer, max in
    guard let cls, let buffer else { return endOfStream }
    let state = Unmanaged<StreamState>.fromOpaque(cls).takeUnretainedValue()
    while state.pending.isEmpty {
        guard let chunk = state.stream.next() else { return endOfStream }
        state.pending = chunk
    }
    let count = min(max, state.pending.count)
    state.pending.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress!, byteCount: count)
    }
    state.pending.removeFirst(count)
    return count
}

private let streamFreed: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    let state = Unmanaged<StreamState>.fromOpaque(cls).takeRetainedValue()
    state.context.close(state.stream)
}

private func queue(_ response: Response, on connection: OpaquePointer, context: ServerContext) -> MHD_Result {
    let created: OpaquePointer?
    switch response.body {
    case .bytes(let data):
        created = data.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
        }
    case .stream(let stream):
        guard context.open(stream) else {
            stream.cancel()
            return .NO
        }
        let state = Unmanaged.passRetained(StreamState(stream: stream, context: context)).toOpaque()
        created = MHD_create_response_from_callback(UInt64.max, 32 * 1024, streamReader, state, streamFreed)
        if created == nil { streamFreed(state) }
    }
    guard let created else { return .NO }
    defer { MHD_destroy_response(created) }
    for (name, value) in response.headers {
        _ = MHD_add_response_header(created, name, value)
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
}
