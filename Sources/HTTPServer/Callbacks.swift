import CTenantry
import Foundation

// The libmicrohttpd callbacks. Each reaches the server through `cls` and the connection through the socket
// context set when it opened; a request's state lives on its connection.

private func server(_ cls: UnsafeMutableRawPointer?) -> ServerContext? {
    cls.map { Unmanaged<ServerContext>.fromOpaque($0).takeUnretainedValue() }
}

private func connectionState(_ connection: OpaquePointer) -> Connection? {
    ctenantry_mhd_socket_context(connection).map { Unmanaged<Connection>.fromOpaque($0).takeUnretainedValue() }
}

let connectionNotified: MHD_NotifyConnectionCallback = { cls, connection, socketContext, code in
    guard let context = server(cls), let connection, let socketContext else { return }
    // MHD_CONNECTION_NOTIFY_STARTED (0) does not import by name.
    if code.rawValue == 0 {
        var address = [CChar](repeating: 0, count: 64)
        ctenantry_mhd_client_address(connection, &address, socklen_t(address.count))
        let opened = context.connections.opened(socket: ctenantry_mhd_connection_fd(connection), client: String(decoding: address.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        socketContext.pointee = Unmanaged.passRetained(opened).toOpaque()
    } else if let stored = socketContext.pointee {
        let closed = Unmanaged<Connection>.fromOpaque(stored).takeRetainedValue()
        socketContext.pointee = nil
        context.connections.closed(closed)
    }
}

/// Called with the request line: the request's state starts here, so a later request's header deadline can too.
let requestStarted: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, OpaquePointer?) -> UnsafeMutableRawPointer? = { cls, _, connection in
    guard let context = server(cls), let connection, let open = connectionState(connection) else { return nil }
    let state = RequestState()
    context.connections.requestStarted(open, state)
    return Unmanaged.passUnretained(state).toOpaque()
}

let requestCompleted: MHD_RequestCompletedCallback = { cls, connection, requestSlot, _ in
    guard let context = server(cls), let connection, let open = connectionState(connection) else { return }
    context.connections.requestCompleted(open)
    requestSlot?.pointee = nil
}

let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadDataSize, requestSlot in
    guard let context = server(cls), let connection, let requestSlot, let uploadDataSize,
          let open = connectionState(connection), let slot = requestSlot.pointee else { return .NO }
    let state = Unmanaged<RequestState>.fromOpaque(slot).takeUnretainedValue()
    let configuration = context.configuration

    if !state.headersSeen {
        // First call: the headers are complete; no body has been read (and no `100 Continue` sent) yet.
        state.headersSeen = true
        guard context.connections.headersComplete(open) else { return .NO }
        if let overflow = open.overflow { return refuse(overflow, on: connection, context: context) }
        let (headers, count, bytes) = connectionValues(connection, .HEADER_KIND, lowercased: true)
        if count > configuration.maxHeaderCount || bytes > configuration.maxHeaderBytes {
            return refuse(.headersTooLarge(maxBytes: configuration.maxHeaderBytes, maxCount: configuration.maxHeaderCount), on: connection, context: context)
        }
        state.headers = headers
        state.query = connectionValues(connection, .GET_ARGUMENT_KIND, lowercased: false).values
        if let length = headers["content-length"].flatMap(Int.init), length > configuration.maxBodyBytes {
            // Answered now when the client waits for `100 Continue`; otherwise read and dropped, answered after.
            if headers["expect"]?.lowercased() == "100-continue" {
                return refuse(.payloadTooLarge(limit: configuration.maxBodyBytes), on: connection, context: context)
            }
            state.tooLarge = true
        }
        return .YES
    }

    if uploadDataSize.pointee > 0 {
        if !state.tooLarge, !context.connections.isCut(open), let uploadData {
            state.body.append(UnsafeRawPointer(uploadData).assumingMemoryBound(to: UInt8.self), count: uploadDataSize.pointee)
            if state.body.count > configuration.maxBodyBytes {
                state.tooLarge = true
                state.body = Data()
            }
        }
        uploadDataSize.pointee = 0
        return .YES
    }

    // The request is complete: answer, or run the handler on a handler thread with the connection suspended.
    if let response = state.take() { return queue(response, on: connection, context: context) }
    guard !state.dispatched, context.connections.answering(open) else { return .NO }
    if state.tooLarge { return refuse(.payloadTooLarge(limit: configuration.maxBodyBytes), on: connection, context: context) }
    guard context.handlers.admit() else { return refuse(.stopping, on: connection, context: context) }
    let request = Request(method: String(cString: method!), path: String(cString: url!), query: state.query,
                          headers: state.headers, body: state.body)
    state.body = Data()
    state.dispatched = true
    let handle = ConnectionHandle(pointer: connection)
    handle.suspend()
    context.handlers.submit {
        state.set(context.handler(request))
        handle.resume()
    }
    return .YES
}

private func refuse(_ refusal: HTTPServer.Refusal, on connection: OpaquePointer, context: ServerContext) -> MHD_Result {
    var response = context.configuration.refusal(refusal)
    response.headers["Connection"] = "close"
    return queue(response, on: connection, context: context)
}

private let headerCollector: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let box = Unmanaged<ValuesBox>.fromOpaque(cls).takeUnretainedValue()
    let name = String(cString: key)
    let text = value.map { String(cString: $0) } ?? ""
    let stored = box.lowercased ? name.lowercased() : name
    // A repeated header (kubectl sends one Impersonate-Group per --as-group) joins as one list, as
    // RFC 9110 §5.3 combines them; a repeated query argument keeps its last value.
    if box.lowercased, let earlier = box.values[stored] { box.values[stored] = earlier + ", " + text } else { box.values[stored] = text }
    box.count += 1
    box.bytes += name.utf8.count + text.utf8.count + 4
    return .YES
}

private final class ValuesBox {
    let lowercased: Bool
    var values: [String: String] = [:]
    var count = 0
    var bytes = 0
    init(lowercased: Bool) { self.lowercased = lowercased }
}

/// The values of one kind, how many there were (repeats included) and their size as sent ("name: value\r\n").
private func connectionValues(_ connection: OpaquePointer, _ kind: MHD_ValueKind, lowercased: Bool) -> (values: [String: String], count: Int, bytes: Int) {
    let box = ValuesBox(lowercased: lowercased)
    withExtendedLifetime(box) {
        _ = MHD_get_connection_values(connection, kind, headerCollector, Unmanaged.passUnretained(box).toOpaque())
    }
    return (box.values, box.count, box.bytes)
}

private let streamReader: MHD_ContentReaderCallback = { cls, _, buffer, max in
    guard let cls, let buffer else { return -1 }
    return Unmanaged<StreamPump>.fromOpaque(cls).takeUnretainedValue().read(into: buffer, max: max)
}

private let streamFreed: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    Unmanaged<StreamPump>.fromOpaque(cls).takeRetainedValue().free()
}

private func queue(_ response: Response, on connection: OpaquePointer, context: ServerContext) -> MHD_Result {
    let created: OpaquePointer?
    switch response.body {
    case .bytes(let data):
        created = data.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
        }
    case .stream(let stream):
        let pump = StreamPump(stream: stream, connection: ConnectionHandle(pointer: connection), context: context)
        guard context.start(pump) else {
            stream.cancel()
            context.freed(pump)
            return .NO
        }
        let retained = Unmanaged.passRetained(pump).toOpaque()
        created = MHD_create_response_from_callback(UInt64.max, 32 * 1024, streamReader, retained, streamFreed)
        if created == nil { streamFreed(retained) }
    }
    guard let created else { return .NO }
    defer { MHD_destroy_response(created) }
    for (name, value) in response.headers {
        _ = MHD_add_response_header(created, name, value)
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
}
