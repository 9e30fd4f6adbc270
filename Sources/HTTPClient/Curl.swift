import CTenantry
import Foundation

/// A transfer that failed before an HTTP answer came back: connection refused, TLS, timeout, DNS.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case connect, timeout, tls, resolve, other }

    /// libcurl's code (`CURLcode`).
    public let code: Int
    public let kind: Kind
    /// The URL without its query (where a token could hide), and libcurl's own explanation.
    public let url: String
    public let message: String

    public var description: String { "\(url): \(message)" }
}

/// The libcurl wrapper: the only file in this module that touches libcurl. Easy handles are pooled so that
/// connections (and TLS sessions) are kept alive across requests; each transfer holds one handle alone.
public final class HTTPClient: @unchecked Sendable {
    public let tls: TLSOptions
    public let connectTimeout: TimeInterval

    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(tls: TLSOptions = TLSOptions(), connectTimeout: TimeInterval = 10) {
        _ = HTTPClient.globalInit
        self.tls = tls
        self.connectTimeout = connectTimeout
    }

    deinit {
        for handle in idle { curl_easy_cleanup(handle) }
    }

    /// Sends the request and returns the whole answer, whatever its status.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let sink = ResponseSink(onData: nil)
        let status = try perform(request, sink)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// Sends the request and hands the body to `onData` piece by piece as it arrives (a watch stream);
    /// `onData` returns false to stop. Returns the status and headers.
    public func stream(_ request: HTTPRequest, onData: @escaping (ArraySlice<UInt8>) -> Bool) throws(HTTPClientError)
        -> (status: Int, headers: [String: String]) {
        try stream(request, isCancelled: nil) { _, bytes in onData(bytes) }
    }

    /// As `stream`, with the answer's status known to `onData` before its first byte (so an error body is not
    /// taken for content), and `isCancelled` asked about once a second: true ends the transfer quietly even while
    /// the server sends nothing (a followed log that has gone quiet, whose reader left).
    public func stream(_ request: HTTPRequest, isCancelled: (@Sendable () -> Bool)?,
                       onData: @escaping (_ status: Int, ArraySlice<UInt8>) -> Bool) throws(HTTPClientError)
        -> (status: Int, headers: [String: String]) {
        let sink = ResponseSink(onData: onData, isCancelled: isCancelled)
        do {
            let status = try perform(request, sink)
            return (status, sink.headers)
        } catch where sink.stoppedByReceiver {
            return (sink.status, sink.headers)
        }
    }

    // MARK: - Transfer

    private func perform(_ request: HTTPRequest, _ sink: ResponseSink) throws(HTTPClientError) -> Int {
        let handle = checkOut()
        defer { checkIn(handle) }
        curl_easy_reset(handle)
        // libcurl writes its message here during the transfer, so the buffer must not move: allocate it.
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var resolveList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(resolveList) }
        let displayURL = String(request.url.prefix { $0 != "?" })

        func fail(_ code: CURLcode) -> HTTPClientError {
            let detail = String(decoding: UnsafeRawBufferPointer(start: errorBuffer, count: strlen(errorBuffer)), as: UTF8.self)
            let message = detail.isEmpty ? String(decoding: UnsafeRawBufferPointer(start: curl_easy_strerror(code), count: strlen(curl_easy_strerror(code))), as: UTF8.self) : detail
            let kind: HTTPClientError.Kind
            switch code {
            case CURLE_COULDNT_CONNECT: kind = .connect
            case CURLE_OPERATION_TIMEDOUT: kind = .timeout
            case CURLE_COULDNT_RESOLVE_HOST: kind = .resolve
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
                kind = .tls
            default: kind = .other
            }
            return HTTPClientError(code: Int(code.rawValue), kind: kind, url: displayURL, message: message)
        }
        func check(_ code: CURLcode) throws(HTTPClientError) {
            guard code == CURLE_OK else { throw fail(code) }
        }

        try check(ctenantry_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try check(ctenantry_curl_setopt_string(handle, CURLOPT_URL, request.url))
        try check(ctenantry_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        try check(ctenantry_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(ctenantry_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000)))
        try check(ctenantry_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)))
        // Every encoding libcurl was built with (gzip, deflate, …), decoded transparently.
        try check(ctenantry_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
        try check(ctenantry_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        if request.method == "HEAD" { try check(ctenantry_curl_setopt_long(handle, CURLOPT_NOBODY, 1)) }

        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // No "Expect: 100-continue" round trip for bodies. Not on SigV4-signed requests: libcurl would sign the empty
        // header it then leaves out, and the server's signature would differ.
        if request.awsSigV4 == nil { headerList = curl_slist_append(headerList, "Expect:") }
        try check(ctenantry_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        // Always set (an empty list clears what a pooled handle's previous transfer pinned).
        for entry in request.resolve { resolveList = curl_slist_append(resolveList, entry) }
        try check(ctenantry_curl_setopt_slist(handle, CURLOPT_RESOLVE, resolveList))

        try applyTLS(handle, check)
        if let signing = request.awsSigV4 {
            try check(ctenantry_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, signing.provider))
            try check(ctenantry_curl_setopt_string(handle, CURLOPT_USERNAME, signing.accessKeyID))
            try check(ctenantry_curl_setopt_string(handle, CURLOPT_PASSWORD, signing.secretAccessKey))
        }

        let context = Unmanaged.passUnretained(sink).toOpaque()
        try check(ctenantry_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            return sink.receive(bytes) ? size * count : 0
        }))
        try check(ctenantry_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check(ctenantry_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
                .header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }))
        try check(ctenantry_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        // Always set: a pooled handle must not keep a previous transfer's callback.
        try check(ctenantry_curl_setopt_long(handle, CURLOPT_NOPROGRESS, sink.isCancelled == nil ? 1 : 0))
        if sink.isCancelled != nil {
            try check(ctenantry_curl_setopt_xferinfo_function(handle, { context, _, _, _, _ in
                guard let context else { return 0 }
                return Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().cancelled() ? 1 : 0
            }))
            try check(ctenantry_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
        }

        if let body = request.body {
            // COPYPOSTFIELDS copies the bytes; the size must be set first (bodies may hold NUL bytes).
            try check(ctenantry_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            var bytes = body
            bytes.append(0)
            try check(bytes.withUnsafeMutableBytes { ctenantry_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) })
        }
        try check(curl_easy_perform(handle))
        var status = 0
        _ = ctenantry_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        sink.status = status
        return status
    }

    private func applyTLS(_ handle: UnsafeMutableRawPointer, _ check: (CURLcode) throws(HTTPClientError) -> Void) throws(HTTPClientError) {
        if tls.insecureSkipVerify {
            try check(ctenantry_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0))
            try check(ctenantry_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0))
        }
        if let file = tls.caFile { try check(ctenantry_curl_setopt_string(handle, CURLOPT_CAINFO, file)) }
        if var data = tls.caData {
            try check(data.withUnsafeMutableBytes { ctenantry_curl_setopt_blob(handle, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) })
        }
        if let file = tls.clientCertificateFile { try check(ctenantry_curl_setopt_string(handle, CURLOPT_SSLCERT, file)) }
        if var data = tls.clientCertificateData {
            try check(data.withUnsafeMutableBytes { ctenantry_curl_setopt_blob(handle, CURLOPT_SSLCERT_BLOB, $0.baseAddress, $0.count) })
        }
        if let file = tls.clientKeyFile { try check(ctenantry_curl_setopt_string(handle, CURLOPT_SSLKEY, file)) }
        if var data = tls.clientKeyData {
            try check(data.withUnsafeMutableBytes { ctenantry_curl_setopt_blob(handle, CURLOPT_SSLKEY_BLOB, $0.baseAddress, $0.count) })
        }
    }

    private func checkOut() -> UnsafeMutableRawPointer {
        lock.lock()
        defer { lock.unlock() }
        if let handle = idle.popLast() { return handle }
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed (out of memory)") }
        return handle
    }

    private func checkIn(_ handle: UnsafeMutableRawPointer) {
        lock.lock()
        idle.append(handle)
        lock.unlock()
    }
}

/// Collects one response: headers as they come, the body whole or handed on piece by piece.
private final class ResponseSink {
    let onData: ((Int, ArraySlice<UInt8>) -> Bool)?
    let isCancelled: (@Sendable () -> Bool)?
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var status = 0
    var stoppedByReceiver = false

    init(onData: ((Int, ArraySlice<UInt8>) -> Bool)?, isCancelled: (@Sendable () -> Bool)? = nil) {
        self.onData = onData
        self.isCancelled = isCancelled
    }

    /// The progress callback's question; a cancelled transfer counts as stopped by the receiver.
    func cancelled() -> Bool {
        guard isCancelled?() == true else { return false }
        stoppedByReceiver = true
        return true
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let onData else {
            body.append(contentsOf: bytes)
            return true
        }
        if !onData(status, ArraySlice(bytes)) {
            stoppedByReceiver = true
            return false
        }
        return true
    }

    func header(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or 100 Continue) starts its headers afresh.
            headers = [:]
            status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = headers[name].map { "\($0), \(value)" } ?? value
    }
}
