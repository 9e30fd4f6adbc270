import Foundation
import HTTPServer
import Model
import Notifications
import Support
import XCTest

final class CallbackDeliveryTests: XCTestCase {
    private func notifier(_ receiver: FakeReceiver, _ clock: TestClock, path: String = Fixture.outboxPath(),
                          timeout: TimeInterval = 15, addresses: AddressPolicy = .testingAllowsLoopback,
                          log: AttemptLog = AttemptLog()) throws -> Notifier {
        try Notifier(.init(outboxPath: path, links: NotificationLinks(uiBaseURL: "https://tenantry.example/", apiBaseURL: "https://api.tenantry.example"),
                           retry: RetryPolicy(requestTimeout: timeout), addresses: addresses, tls: receiver.tls),
                     secrets: Fixture.secrets, clock: clock.wallClock, recorder: log.add)
    }

    func testSignedBodyWithStableSchemaAndHeaders() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 204) }
        let clock = TestClock()
        let log = AttemptLog()
        let notifier = try notifier(receiver, clock, log: log)
        let ids = try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, url: receiver.url + "/hooks/tenantry"))
        XCTAssertEqual(ids.count, 1)
        let attempts = try notifier.deliverDue()
        XCTAssertEqual(attempts.map(\.outcome), [.delivered])
        XCTAssertEqual(log.attempts, attempts)

        let request = try XCTUnwrap(receiver.requests.first)
        XCTAssertEqual(receiver.requests.count, 1)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/hooks/tenantry")
        XCTAssertEqual(request.headers["content-type"], "application/json")
        XCTAssertEqual(request.headers["x-tenantry-event"], "session.completed")
        XCTAssertEqual(request.headers["x-tenantry-delivery"], ids[0])
        // The receiver's check: HMAC-SHA256 of the exact body with the shared secret.
        let expected = "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Fixture.secret, message: Array(request.body)))
        XCTAssertEqual(request.headers["x-tenantry-signature-256"], expected)
        let wrong = "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array("another".utf8), message: Array(request.body)))
        XCTAssertNotEqual(request.headers["x-tenantry-signature-256"], wrong)

        let body = try JSON(parsing: request.body)
        XCTAssertEqual(body.objectValue?.keys, ["event", "time", "tenant", "namespace", "session", "phase", "reason", "summary", "cost", "links"])
        XCTAssertEqual(body["time"]?.stringValue, "2026-11-30T00:53:20Z")
        XCTAssertEqual(body["phase"]?.stringValue, "Completed")
        XCTAssertEqual(body["cost"], ["amount": .number("1.25"), "currency": "USD"])
        XCTAssertEqual(body["links"]?["ui"]?.stringValue, "https://tenantry.example/namespaces/team-a/sessions/fix-42")
        XCTAssertEqual(body["links"]?["api"]?.stringValue, "https://api.tenantry.example/apis/ambient.ai/v1alpha1/namespaces/team-a/sessions/fix-42")
    }

    func testFailingThreeTimesThenSucceedingTakesFourAttemptsWithGrowingGaps() throws {
        let receiver = try FakeReceiver { _, index in index <= 3 ? Response(status: 503) : Response(status: 200) }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock)
        try notifier.record(Fixture.transition(.sessionFailed, phase: .failed, url: receiver.url + "/hook"))
        let attempts = try deliverAll(notifier, clock)
        XCTAssertEqual(attempts.map(\.attempt), [1, 2, 3, 4])
        XCTAssertEqual(attempts.last?.outcome, .delivered)
        XCTAssertEqual(attempts.prefix(3).map(\.status), [503, 503, 503])
        let times = attempts.map(\.time)
        let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
        XCTAssertEqual(gaps.count, 3)
        XCTAssertTrue(gaps[0] >= 0.8 && gaps[0] < gaps[1] && gaps[1] < gaps[2], "gaps \(gaps)")
        XCTAssertEqual(Set(receiver.requests.map { $0.headers["x-tenantry-delivery"] }).count, 1, "one delivery id across retries")
        XCTAssertEqual(Set(receiver.requests.map(\.body)).count, 1, "the same bytes on every attempt")
    }

    func testRetryAfterIsHonoured() throws {
        let receiver = try FakeReceiver { _, index in index == 1 ? Response(status: 429, headers: ["Retry-After": "120"]) : Response(status: 200) }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock)
        try notifier.record(Fixture.transition(.sessionFailed, phase: .failed, url: receiver.url + "/hook"))
        let attempts = try deliverAll(notifier, clock)
        XCTAssertEqual(attempts.count, 2)
        XCTAssertEqual(attempts[1].time.timeIntervalSince(attempts[0].time), 120, accuracy: 0.01)
    }

    func testA400IsFinalAfterOneAttempt() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 400) }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock)
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, url: receiver.url + "/hook"))
        let attempts = try deliverAll(notifier, clock)
        XCTAssertEqual(attempts.map(\.outcome), [.failed])
        XCTAssertEqual(attempts.first?.status, 400)
        XCTAssertEqual(receiver.requests.count, 1)
        XCTAssertEqual(try notifier.outbox.all().map(\.state), [.failed])
    }

    func testEightAttemptsThenFailed() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 500) }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock)
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, url: receiver.url + "/hook"))
        let attempts = try deliverAll(notifier, clock)
        XCTAssertEqual(attempts.count, 8)
        XCTAssertEqual(attempts.last?.outcome, .failed)
        XCTAssertTrue(attempts.last?.error?.contains("gave up after 8 attempts") == true)
        // 1 s doubling, capped at 5 min: the 7th wait is 64 s ± 20 %.
        let last = attempts[7].time.timeIntervalSince(attempts[6].time)
        XCTAssertTrue((51...77).contains(last), "\(last)")
    }

    func testAHangingReceiverTimesOutAndIsRetried() throws {
        let release = DispatchSemaphore(value: 0)
        let receiver = try FakeReceiver { _, index in
            if index == 1 { _ = release.wait(timeout: .now() + 30) }
            return Response(status: 200)
        }
        defer { release.signal() }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, timeout: 1)
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, url: receiver.url + "/hook"))
        let first = try notifier.deliverDue()
        guard case .retrying = first.first?.outcome else { return XCTFail("expected a retry, got \(first)") }
        XCTAssertNil(first.first?.status)
        XCTAssertTrue(first.first?.error?.contains("no answer") == true, first.first?.error ?? "")
        release.signal()
        let rest = try deliverAll(notifier, clock)
        XCTAssertEqual(rest.map(\.outcome), [.delivered])
    }

    func testARestartMidRetryDeliversOnceWithTheSameDeliveryID() throws {
        let receiver = try FakeReceiver { _, index in index == 1 ? Response(status: 502) : Response(status: 200) }
        let clock = TestClock()
        let path = Fixture.outboxPath()
        let transition = Fixture.transition(.sessionCompleted, phase: .completed, url: receiver.url + "/hook")
        var firstID: String?
        do {
            let before = try notifier(receiver, clock, path: path)
            firstID = try before.record(transition).first
            let attempts = try before.deliverDue()
            guard case .retrying = attempts.first?.outcome else { return XCTFail("expected a retry") }
        }  // dropped without any shutdown: what survives is what is on disk
        let after = try notifier(receiver, clock, path: path)
        // The controller, restarted, records the same transition again: nothing new.
        XCTAssertEqual(try after.record(transition), [firstID].compactMap { $0 })
        XCTAssertEqual(try after.outbox.all().count, 1)
        let attempts = try deliverAll(after, clock)
        XCTAssertEqual(attempts.map(\.attempt), [2])
        XCTAssertEqual(attempts.map(\.outcome), [.delivered])
        XCTAssertEqual(receiver.requests.map { $0.headers["x-tenantry-delivery"] }, [firstID, firstID])
        XCTAssertEqual(try after.deliverDue(), [])
    }

    func testAURLResolvingToLoopbackIsRefusedByDefault() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 200) }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock, addresses: AddressPolicy())
        try notifier.record(Fixture.transition(.sessionCompleted, phase: .completed, url: "https://localhost:\(receiver.port)/hook"))
        let attempts = try deliverAll(notifier, clock)
        XCTAssertEqual(attempts.map(\.outcome), [.failed])
        XCTAssertTrue(attempts.first?.error?.contains("resolves to 127.0.0.1") == true || attempts.first?.error?.contains("resolves to ::1") == true,
                      attempts.first?.error ?? "")
        XCTAssertEqual(receiver.requests.count, 0, "nothing was sent")
    }

    func testUnsubscribedEventsAndUnreadableSecrets() throws {
        let receiver = try FakeReceiver { _, _ in Response(status: 200) }
        let clock = TestClock()
        let notifier = try notifier(receiver, clock)
        var transition = Fixture.transition(.sessionRunning, phase: .running, url: receiver.url + "/hook")
        transition.webhooks = [NotificationWebhook(url: receiver.url + "/hook", events: ["session.completed"])]
        XCTAssertEqual(try notifier.record(transition), [])
        // The older name still subscribes to session.running.
        transition.webhooks = [NotificationWebhook(url: receiver.url + "/hook", events: ["session.started"])]
        transition.signingSecret = SecretReference(namespace: "team-a", name: "missing")
        XCTAssertEqual(try notifier.record(transition).count, 1)
        let attempt = try XCTUnwrap(try notifier.deliverDue().first)
        guard case .retrying = attempt.outcome else { return XCTFail("an unreadable secret waits, got \(attempt)") }
        XCTAssertTrue(attempt.error?.contains("Secret team-a/missing") == true, attempt.error ?? "")
        XCTAssertEqual(receiver.requests.count, 0, "never sent unsigned")
    }
}
