import Foundation
import HTTPServer
import TestSupport
import XCTest

/// The HTTP server under abuse, driven over raw sockets on loopback: connection caps, header and body deadlines,
/// header limits, `Expect: 100-continue`, and thousands of idle connections. Timings are printed, never asserted.
final class HTTPServerLimitsTests: XCTestCase {
    /// Refusals marked so a test can tell them from libmicrohttpd's own answers.
    private func server(_ edit: (inout HTTPServer.Configuration) -> Void = { _ in },
                        handler: @escaping @Sendable (Request) -> Response = { request in
                            Response(status: 200, body: Data("got \(request.body.count)".utf8))
                        }) throws -> HTTPServer {
        var configuration = HTTPServer.Configuration()
        configuration.refusal = { refusal in
            Response(status: refusal.status, headers: ["Content-Type": "application/json", "X-Refusal": refusal.code],
                     body: Data("{\"error\":\"\(refusal.code)\"}".utf8))
        }
        edit(&configuration)
        return try HTTPServer(configuration, handler: handler)
    }

    private func eventually(_ what: String, within seconds: Double = 30, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return XCTFail("timed out waiting for \(what)") }
            usleep(10_000)
        }
    }

    func testAPoolServesConcurrentRequests() throws {
        let server = try server { $0.eventThreads = 2; $0.handlerThreads = 4 }
        defer { server.stop() }
        let statuses = Statuses()
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            statuses.add(TestHTTP.send("POST", "http://127.0.0.1:\(port)/", body: Data(count: 10), contentType: "text/plain", token: nil).status)
        }
        XCTAssertEqual(statuses.all, Array(repeating: 200, count: 16))
    }

    func testASlowHandlerHoldsUpNoOtherRequest() throws {
        let release = DispatchSemaphore(value: 0)
        let server = try server({ $0.eventThreads = 1 }) { request in
            if request.path == "/slow" { release.wait() }
            return Response(status: 200, body: Data(request.path.utf8))
        }
        defer { server.stop() }
        let slow = RawConnection(port: server.port)!
        slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(TestHTTP.send("GET", "http://127.0.0.1:\(server.port)/fast", body: nil, contentType: "text/plain", token: nil).text, "/fast")
        release.signal()
        XCTAssertEqual(RawAnswer(slow.read(waiting: 30))?.body, "/slow")
    }

    func testABodyThatStopsGets408AtTheDeadlineNotWhenTheRestArrives() throws {
        let server = try server { $0.bodyTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let connection = RawConnection(port: server.port)!
        connection.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        // Nothing more is sent: the answer must come on its own.
        let answer = RawAnswer(connection.read(waiting: 30))
        XCTAssertEqual(answer?.status, 408)
        XCTAssertEqual(answer?.headers["x-refusal"], "request_timeout")
        XCTAssertEqual(answer?.headers["connection"]?.lowercased(), "close")

        let prompt = RawConnection(port: server.port)!
        prompt.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(RawAnswer(prompt.read(waiting: 30))?.body, "got 3")
    }

    func testHeadersSentAByteAtATimeAreCutWith408() throws {
        let server = try server { $0.headerTimeoutSeconds = 0.5 }
        defer { server.stop() }
        let connection = RawConnection(port: server.port)!
        // Each byte resets libmicrohttpd's idle timer; only a deadline from the connection's start cuts it.
        let headers = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 2_000) + "\r\n\r\n"
        let (answer, sent) = connection.trickle(headers, interval: 0.05)
        XCTAssertLessThan(sent, headers.utf8.count, "the headers were never cut")
        XCTAssertEqual(RawAnswer(answer)?.status, 408, answer)
        XCTAssertEqual(RawAnswer(answer)?.headers["x-refusal"], "request_timeout")
    }

    func testAKeptAliveConnectionGetsANewHeaderDeadlinePerRequest() throws {
        let server = try server { $0.headerTimeoutSeconds = 0.5 }
        defer { server.stop() }
        let connection = RawConnection(port: server.port)!
        connection.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(RawAnswer(connection.read(waiting: 30))?.status, 200)
        // Idle longer than the header deadline between requests: the next request line starts a new one.
        usleep(800_000)
        XCTAssertFalse(connection.closedByServer)
        connection.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(connection.read(waiting: 30).components(separatedBy: "HTTP/1.1 200").count == 3)
    }

    func testOversizedOrTooManyHeadersGetTheServersOwn431() throws {
        let server = try server()
        defer { server.stop() }
        let large = RawConnection(port: server.port)!
        large.send("GET / HTTP/1.1\r\nHost: x\r\nX-Large: \(String(repeating: "a", count: 40 * 1024))\r\n\r\n")
        let largeAnswer = RawAnswer(large.read(waiting: 30))
        XCTAssertEqual(largeAnswer?.status, 431)
        XCTAssertEqual(largeAnswer?.headers["x-refusal"], "headers_too_large")

        let many = RawConnection(port: server.port)!
        many.send("GET / HTTP/1.1\r\nHost: x\r\n" + (0..<150).map { "X-H\($0): v\r\n" }.joined() + "\r\n")
        let manyAnswer = RawAnswer(many.read(waiting: 30))
        XCTAssertEqual(manyAnswer?.status, 431)
        XCTAssertEqual(manyAnswer?.body, "{\"error\":\"headers_too_large\"}")
    }

    func testExpectContinueOverTheLimitGets413WithoutContinue() throws {
        let server = try server { $0.maxBodyBytes = 100 }
        defer { server.stop() }
        let refused = RawConnection(port: server.port)!
        refused.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
        let text = refused.read(waiting: 30)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 413"), text)
        XCTAssertFalse(text.contains("100 Continue"), text)
        XCTAssertEqual(RawAnswer(text)?.headers["x-refusal"], "payload_too_large")

        let accepted = RawConnection(port: server.port)!
        accepted.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertTrue(accepted.read(waiting: 30).hasPrefix("HTTP/1.1 100 Continue"))
        accepted.send("hello")
        XCTAssertTrue(accepted.read(waiting: 30).hasSuffix("got 5"))
    }

    func testConnectionsBeyondTheCapsGet503() throws {
        let server = try server { $0.maxConnections = 4; $0.maxConnectionsPerClient = 100 }
        defer { server.stop() }
        let held = (0..<4).compactMap { _ in RawConnection(port: server.port) }
        eventually("4 open connections") { server.openConnections == 4 }
        let beyond = RawConnection(port: server.port)!
        beyond.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = RawAnswer(beyond.read(waiting: 30))
        XCTAssertEqual(answer?.status, 503)
        XCTAssertEqual(answer?.headers["x-refusal"], "too_many_connections")
        // The held ones still work.
        held[0].send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(RawAnswer(held[0].read(waiting: 30))?.status, 200)

        let perClient = try self.server { $0.maxConnections = 100; $0.maxConnectionsPerClient = 2 }
        defer { perClient.stop() }
        let two = (0..<2).compactMap { _ in RawConnection(port: perClient.port) }
        eventually("2 open connections") { perClient.openConnections == 2 }
        let third = RawConnection(port: perClient.port)!
        third.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(RawAnswer(third.read(waiting: 30))?.status, 503)
        XCTAssertEqual(two.count, 2)
    }

    /// The issue's figure: with 10,000 idle connections open (held by a child process, so the two ends do not
    /// share one descriptor limit) a good request is still answered. The latency is printed, not asserted.
    func testTenThousandIdleConnectionsAndAGoodRequestIsStillAnswered() throws {
        let server = try server {
            $0.headerTimeoutSeconds = 600
            $0.idleTimeoutSeconds = 600
            $0.maxConnectionsPerClient = $0.maxConnections
        }
        defer { server.stop() }
        let holder = try IdleConnectionHolder(port: server.port, count: 10_000)
        defer { holder.stop() }
        eventually("10,000 open connections", within: 120) { server.openConnections >= 10_000 }
        var latencies: [Double] = []
        for _ in 0..<20 {
            let started = Date()
            let response = TestHTTP.send("GET", "http://127.0.0.1:\(server.port)/healthz", body: nil, contentType: "text/plain", token: nil)
            latencies.append(Date().timeIntervalSince(started) * 1000)
            XCTAssertEqual(response.status, 200)
        }
        latencies.sort()
        print(String(format: "10,000 idle connections: /healthz p50 %.2f ms, max %.2f ms", latencies[latencies.count / 2], latencies.last!))
    }
}

final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func add(_ status: Int) { lock.withLock { list.append(status) } }
    var all: [Int] { lock.withLock { list } }
}
