import Foundation
import HTTPClient
import HTTPServer
import XCTest

/// The libmicrohttpd wrapper on its own, with handlers written for each test.
final class HTTPServerTests: XCTestCase {
    private func url(_ server: HTTPServer, _ path: String) -> String { "http://127.0.0.1:\(server.port)\(path)" }

    func testHandlerSeesMethodPathQueryHeadersAndBody() throws {
        let server = try HTTPServer(HTTPServer.Configuration()) { request in
            let summary = "\(request.method) \(request.path) q=\(request.query["q"] ?? "-") ct=\(request.headers["content-type"] ?? "-") body=\(String(decoding: request.body, as: UTF8.self))"
            return Response(status: 202, headers: ["X-Echo": "yes"], body: Data(summary.utf8))
        }
        defer { server.stop() }
        XCTAssertNotEqual(server.port, 0)
        let response = TestHTTP.send("POST", url(server, "/a/b?q=x%20y"), body: Data("hello".utf8), contentType: "text/plain", token: nil)
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.headers["x-echo"], "yes")
        XCTAssertEqual(response.text, "POST /a/b q=x y ct=text/plain body=hello")
    }

    func testBodiesOverTheLimitGetPayloadTooLarge() throws {
        var configuration = HTTPServer.Configuration()
        configuration.maxBodyBytes = 100
        let server = try HTTPServer(configuration) { request in Response(status: 200, body: Data("\(request.body.count)".utf8)) }
        defer { server.stop() }
        XCTAssertEqual(TestHTTP.send("PUT", url(server, "/"), body: Data(count: 100), contentType: "application/octet-stream", token: nil).text, "100")
        let refused = TestHTTP.send("PUT", url(server, "/"), body: Data(count: 101), contentType: "application/octet-stream", token: nil)
        XCTAssertEqual(refused.status, 413)
        XCTAssertTrue(refused.text.contains("larger than 100 bytes"))
    }

    func testStreamedBodyArrivesWhole() throws {
        let server = try HTTPServer(HTTPServer.Configuration()) { _ in
            let chunks = Chunks(["one\n", "two\n", "three\n"])
            return Response(status: 200, stream: ResponseStream(next: { chunks.next() }, cancel: {}))
        }
        defer { server.stop() }
        XCTAssertEqual(TestHTTP.send("GET", url(server, "/stream"), body: nil, contentType: "text/plain", token: nil).text, "one\ntwo\nthree\n")
    }

    func testStopEndsAStreamThatIsWaiting() throws {
        let waiting = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
        let cancelled = Flag()
        let server = try HTTPServer(HTTPServer.Configuration()) { _ in
            Response(status: 200, stream: ResponseStream(next: {
                waiting.signal()
                released.wait()
                return nil
            }, cancel: {
                cancelled.set()
                released.signal()
            }))
        }
        let address = url(server, "/watch")
        let answered = DispatchSemaphore(value: 0)
        let answer = Answer()
        let client = Thread {
            answer.response = TestHTTP.send("GET", address, body: nil, contentType: "text/plain", token: nil)
            answered.signal()
        }
        client.start()
        waiting.wait()
        server.stop()
        // stop returned: the stream was cancelled, and the client's request ended (the stream's end, 200 and empty).
        XCTAssertTrue(cancelled.isSet)
        XCTAssertEqual(answered.wait(timeout: .now() + 60), .success, "the client was still waiting after stop")
        XCTAssertEqual(answer.response?.status, 200)
        XCTAssertEqual(answer.response?.text, "")
    }

    func testSelfSignedIdentityServesTLS() throws {
        let identity = try TLSIdentity.selfSigned(commonName: "test", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"], days: 1)
        XCTAssertTrue(identity.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertTrue(identity.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        var configuration = HTTPServer.Configuration()
        configuration.tls = identity
        let server = try HTTPServer(configuration) { _ in Response(status: 200) }
        defer { server.stop() }
        // Plain HTTP to a TLS port is not answered as HTTP.
        XCTAssertNotEqual(TestHTTP.send("GET", url(server, "/"), body: nil, contentType: "text/plain", token: nil).status, 200)
    }
}

private final class Chunks: @unchecked Sendable {
    // Unchecked: one connection thread reads it, one chunk at a time.
    private var remaining: [String]
    init(_ chunks: [String]) { remaining = chunks }
    func next() -> Data? { remaining.isEmpty ? nil : Data(remaining.removeFirst().utf8) }
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

private final class Answer: @unchecked Sendable {
    // Unchecked: written by the client thread before it signals, read after the wait.
    var response: HTTPResponse?
}
