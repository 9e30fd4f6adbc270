import Foundation
import Model
import TestSupport
import XCTest

/// The answers the HTTP server gives itself, before the webhook service sees a request: the contract's error
/// format, with a real trace id in the body and the `X-Trace-Id` header.
final class WebhookHTTPLimitsTests: XCTestCase {
    private func assertContractError(_ text: String, status: Int, code: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let answer = RawAnswer(text) else { return XCTFail("no HTTP answer: \(text)", file: file, line: line) }
        XCTAssertEqual(answer.status, status, file: file, line: line)
        XCTAssertEqual(answer.headers["content-type"], "application/json", file: file, line: line)
        let body = try? JSON(parsing: answer.body)
        XCTAssertEqual(body?["error"]?.stringValue, code, file: file, line: line)
        let traceID = answer.headers["x-trace-id"] ?? ""
        XCTAssertEqual(traceID.count, 16, "a trace id of 16 hex digits, got \"\(traceID)\"", file: file, line: line)
        XCTAssertEqual(body?["traceId"]?.stringValue, traceID, file: file, line: line)
    }

    func testASlowBodyGets408WithATraceID() throws {
        let fixture = try WebhookFixture()
        fixture.requestTimeoutSeconds = 0.3
        try fixture.restart()
        let connection = RawConnection(port: fixture.server.port)!
        connection.send("POST /api/v1/webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        assertContractError(connection.read(waiting: 30), status: 408, code: "request_timeout")
    }

    func testSlowHeadersGet408WithATraceID() throws {
        let fixture = try WebhookFixture()
        fixture.requestTimeoutSeconds = 0.3
        try fixture.restart()
        let connection = RawConnection(port: fixture.server.port)!
        let (answer, _) = connection.trickle("POST /api/v1/webhooks/github HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 1_000), interval: 0.05)
        assertContractError(answer, status: 408, code: "request_timeout")
    }

    func testAnOversizedBodyAnnouncedWithExpectGets413AtOnceWithATraceID() throws {
        let fixture = try WebhookFixture()
        let connection = RawConnection(port: fixture.server.port)!
        connection.send("POST /api/v1/webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: \(400 * 1024 * 1024)\r\nExpect: 100-continue\r\n\r\n")
        let text = connection.read(waiting: 30)
        XCTAssertFalse(text.contains("100 Continue"), text)
        assertContractError(text, status: 413, code: "payload_too_large")
    }

    func testOversizedHeadersGet431InTheContractFormat() throws {
        let fixture = try WebhookFixture()
        let connection = RawConnection(port: fixture.server.port)!
        connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n" + (0..<200).map { "X-H\($0): v\r\n" }.joined() + "\r\n")
        assertContractError(connection.read(waiting: 30), status: 431, code: "headers_too_large")
    }

    /// Issue 14's figure for `tenantry serve`: 10,000 idle connections from loopback, and `/healthz` still answers.
    /// The latency is printed, not asserted.
    func testTenThousandIdleConnectionsAndHealthzStillAnswers() throws {
        let fixture = try WebhookFixture()
        fixture.requestTimeoutSeconds = 600
        try fixture.restart()
        let holder = try IdleConnectionHolder(port: fixture.server.port, count: 10_000)
        defer { holder.stop() }
        let deadline = Date().addingTimeInterval(120)
        while fixture.server.openConnections < 10_000 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(fixture.server.openConnections, 10_000)
        var latencies: [Double] = []
        for _ in 0..<20 {
            let started = Date()
            XCTAssertEqual(try fixture.send("GET", "/healthz").status, 200)
            latencies.append(Date().timeIntervalSince(started) * 1000)
        }
        latencies.sort()
        print(String(format: "tenantry serve, 10,000 idle connections: /healthz p50 %.2f ms, max %.2f ms", latencies[10], latencies[19]))
    }
}
