import Foundation
import HTTPClient
import HTTPServer
import Model
import Notifications
import Support
import XCTest

/// A TLS server on 127.0.0.1 that records every request exactly and answers with the test's script.
final class FakeReceiver: @unchecked Sendable {
    // Unchecked: `requests` and `answer` are touched under `lock`.
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var answer: @Sendable (Request, Int) -> Response
    private var server: HTTPServer!
    let identity: TLSIdentity

    init(dnsNames: [String] = ["localhost"], _ answer: @escaping @Sendable (Request, Int) -> Response) throws {
        self.answer = answer
        identity = try TLSIdentity.selfSigned(commonName: "fake-receiver", ipAddresses: ["127.0.0.1"], dnsNames: dnsNames, days: 1)
        var configuration = HTTPServer.Configuration()
        configuration.tls = identity
        server = try HTTPServer(configuration) { [unowned self] request in
            self.lock.lock()
            self.recorded.append(request)
            let index = self.recorded.count
            let answer = self.answer
            self.lock.unlock()
            return answer(request, index)
        }
    }

    deinit { server.stop() }

    var port: UInt16 { server.port }
    var url: String { "https://127.0.0.1:\(port)" }
    var tls: TLSOptions { TLSOptions(caData: Array(identity.certificatePEM.utf8)) }
    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func stop() { server.stop() }

    static func json(_ status: Int, _ body: JSON, headers: [String: String] = [:]) -> Response {
        Response(status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: Data(body.compactBytes))
    }
}

/// A wall clock the test moves: `sleep` advances it at once and records the wait.
final class TestClock: @unchecked Sendable {
    // Unchecked: `current` and `waits` are touched under `lock`.
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_796_000_000)
    private var recordedWaits: [TimeInterval] = []

    var now: Date { lock.lock(); defer { lock.unlock() }; return current }
    var waits: [TimeInterval] { lock.lock(); defer { lock.unlock() }; return recordedWaits }

    func advance(to date: Date) {
        lock.lock()
        current = max(current, date)
        lock.unlock()
    }

    var wallClock: WallClock {
        WallClock(now: { self.now }, sleep: { seconds in
            self.lock.lock()
            self.recordedWaits.append(seconds)
            self.current = self.current.addingTimeInterval(seconds)
            self.lock.unlock()
        })
    }
}

/// Collects what the notifier's recorder hears.
final class AttemptLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [DeliveryAttempt] = []
    func add(_ attempt: DeliveryAttempt) { lock.lock(); items.append(attempt); lock.unlock() }
    var attempts: [DeliveryAttempt] { lock.lock(); defer { lock.unlock() }; return items }
}

enum Fixture {
    static let secret = Array("s3cr3t-shared-with-the-receiver".utf8)
    static let secretReference = SecretReference(namespace: "team-a", name: "tenantry-notifications")

    static func outboxPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("outbox.sqlite").path
    }

    static func transition(_ event: NotificationEvent, phase: Session.Phase, url: String? = nil, origin: SessionOrigin? = nil,
                           summary: String = "Fixed the flaky test") -> SessionTransition {
        SessionTransition(event: event, time: Date(timeIntervalSince1970: 1_796_000_000), tenant: "team-a", namespace: "team-a",
                          session: "fix-42", phase: phase, reason: "JobSucceeded", summary: summary,
                          cost: Amount("1.25"), currency: "USD", origin: origin,
                          webhooks: url.map { [NotificationWebhook(url: $0, events: NotificationEvent.allCases.map(\.rawValue))] } ?? [],
                          signingSecret: secretReference)
    }

    /// The secret lookup a cluster would answer: only the named Secret exists.
    static let secrets: SecretLookup = { reference in
        guard reference == secretReference else { throw DeliveryRefusal("secrets \"\(reference.name)\" not found") }
        return secret
    }
}

/// Delivers until nothing is pending, moving the clock to each next attempt; returns the attempts.
func deliverAll(_ notifier: Notifier, _ clock: TestClock, limit: Int = 20) throws -> [DeliveryAttempt] {
    var attempts: [DeliveryAttempt] = []
    for _ in 0..<limit {
        attempts += try notifier.deliverDue()
        guard let next = try notifier.outbox.nextDue() else { return attempts }
        clock.advance(to: next)
    }
    XCTFail("still pending after \(limit) passes")
    return attempts
}
