import Foundation
import HTTPClient
import HTTPServer
import Model
@testable import Notifications
import Support
import XCTest

final class PinningAndPacingTests: XCTestCase {
    /// `HTTPRequest.resolve` connects to the checked address without asking DNS: a `.invalid` name (which never
    /// resolves) reaches the receiver, with TLS verified for that name.
    func testARequestIsPinnedToTheCheckedAddress() throws {
        let receiver = try FakeReceiver(dnsNames: ["receiver.invalid"]) { _, _ in Response(status: 204) }
        let http = HTTPClient(tls: receiver.tls)
        let url = "https://receiver.invalid:\(receiver.port)/hook"
        XCTAssertThrowsError(try http.send(HTTPRequest(method: "POST", url: url, body: [])), "without the pin the name does not resolve")
        let pinned = AddressPolicy.Pinned(host: "receiver.invalid", port: Int(receiver.port), address: "127.0.0.1")
        let response = try http.send(HTTPRequest(method: "POST", url: url, body: [], resolve: [pinned.resolveEntry]))
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(receiver.requests.map(\.path), ["/hook"])
    }

    func testWritesArePacedOneASecondAndEightyAMinute() {
        let clock = TestClock()
        let pacer = WritePacer(interval: 1, perMinute: 80, clock: clock.wallClock)
        let start = clock.now
        for _ in 0..<3 { pacer.pace("token-a") }
        XCTAssertEqual(clock.now.timeIntervalSince(start), 2, accuracy: 0.001, "three writes take two one-second gaps")
        pacer.pace("token-b")
        XCTAssertEqual(clock.now.timeIntervalSince(start), 2, accuracy: 0.001, "another key is not held up")

        let fast = WritePacer(interval: 0, perMinute: 80, clock: clock.wallClock)
        let burst = clock.now
        for _ in 0..<80 { fast.pace("k") }
        XCTAssertEqual(clock.now, burst, "80 in a minute go at once")
        fast.pace("k")
        XCTAssertEqual(clock.now.timeIntervalSince(burst), 60, accuracy: 0.001, "the 81st waits for the minute")
    }

    func testABudgetThresholdBody() throws {
        var transition = Fixture.transition(.budgetThreshold, phase: .running)
        transition.threshold = BudgetThreshold(month: "2026-12", percent: 80)
        let body = NotificationBody.json(transition, links: NotificationLinks(uiBaseURL: "https://ui.example", apiBaseURL: "https://api.example"))
        XCTAssertEqual(body.objectValue?.keys, ["event", "time", "tenant", "namespace", "session", "phase", "reason", "summary", "cost", "budget", "links"])
        XCTAssertEqual(body["budget"], ["month": "2026-12", "percent": 80])
        XCTAssertEqual(body["links"], ["ui": "https://ui.example/tenants/team-a/budget", "api": nil, "origin": nil])
    }
}
