import Foundation
import GitHub
import HTTPClient
import Model
import Support

/// The one entry point of notifications. The session controller calls `record` in the step that records a
/// transition (the intent is on disk when it returns); a delivery loop calls `deliverDue` (or `run`).
public final class Notifier: Sendable {
    public struct Configuration: Sendable {
        public var outboxPath: String
        public var links: NotificationLinks
        public var retry: RetryPolicy
        public var addresses: AddressPolicy
        /// The shared GitHub client (`--github-api`, `--github-token-file`), as `serve --plan-repo` builds it.
        public var github: GitHubClient?
        public var jira: JiraConfiguration?
        public var slack: SlackConfiguration?
        /// TLS for callbacks and Jira/Slack (the system CAs unless a test trusts its own).
        public var tls: TLSOptions

        public init(outboxPath: String, links: NotificationLinks = NotificationLinks(), retry: RetryPolicy = RetryPolicy(),
                    addresses: AddressPolicy = AddressPolicy(), github: GitHubClient? = nil, jira: JiraConfiguration? = nil,
                    slack: SlackConfiguration? = nil, tls: TLSOptions = TLSOptions()) {
            self.outboxPath = outboxPath
            self.links = links
            self.retry = retry
            self.addresses = addresses
            self.github = github
            self.jira = jira
            self.slack = slack
            self.tls = tls
        }
    }

    public let outbox: Outbox
    private let configuration: Configuration
    private let clock: WallClock
    private let webhooks: WebhookSender
    private let origins: OriginAnswers
    private let recorder: @Sendable (DeliveryAttempt) -> Void
    /// One delivery pass at a time (a second caller waits), so a row is never sent twice at once.
    private let delivering = NSLock()
    /// Signalled by `record`: the delivery loop stops waiting.
    private let wake = DispatchSemaphore(value: 0)

    /// `secrets` reads a Secret key from the cluster at send time; `recorder` hears every attempt (the session's
    /// history and the audit trail).
    public init(_ configuration: Configuration, secrets: @escaping SecretLookup, clock: WallClock = .system,
                recorder: @escaping @Sendable (DeliveryAttempt) -> Void = { _ in }) throws(SQLiteError) {
        self.configuration = configuration
        self.outbox = try Outbox(path: configuration.outboxPath)
        self.clock = clock
        self.recorder = recorder
        // Its own client: CURLOPT_RESOLVE pins stay in a handle's DNS cache, so they are not shared with other clients.
        let http = HTTPClient(tls: configuration.tls)
        webhooks = WebhookSender(http: http, addresses: configuration.addresses, secrets: secrets, timeout: configuration.retry.requestTimeout)
        origins = OriginAnswers(outbox: outbox, github: configuration.github, jira: configuration.jira, slack: configuration.slack,
                                http: http, addresses: configuration.addresses, secrets: secrets,
                                timeout: configuration.retry.requestTimeout,
                                githubPacer: WritePacer(interval: 1, perMinute: 80, clock: clock),
                                slackPacer: WritePacer(interval: 1, perMinute: 60, clock: clock))
    }

    /// Writes the intents of `transition` to the outbox, durably, in one transaction: one row per subscribed
    /// webhook and one per origin answer. Recording the same transition again changes nothing and returns the
    /// same delivery ids.
    @discardableResult
    public func record(_ transition: SessionTransition) throws(SQLiteError) -> [String] {
        try record([transition])
    }

    /// Writes the intents of the transitions of one step in one transaction (so an older origin answer of the
    /// step is always superseded by the newer, never sent first), then wakes the delivery loop.
    @discardableResult
    public func record(_ transitions: [SessionTransition]) throws(SQLiteError) -> [String] {
        var rows: [(intent: String, subject: String, event: NotificationEvent, target: DeliveryTarget, body: [UInt8], origin: SessionOrigin?)] = []
        for transition in transitions {
            let body = NotificationBody.json(transition, links: configuration.links).compactBytes
            let subject = transition.event == .budgetThreshold ? transition.tenant : "\(transition.namespace)/\(transition.session)"
            var seen = Set<String>()
            for webhook in transition.webhooks where transition.event.isSubscribed(by: webhook.events) && seen.insert(webhook.url).inserted {
                rows.append((transition.intentKey, subject, transition.event, .webhook(url: webhook.url, secret: transition.signingSecret), body, nil))
            }
            if let origin = transition.origin, transition.event != .budgetThreshold {
                // Only where this process holds the credential: no token means no answer there, not a failure per session.
                for target in OriginAnswers.targets(for: origin, event: transition.event) where origins.canAnswer(target) {
                    rows.append((transition.intentKey, subject, transition.event, target, body, origin))
                }
            }
        }
        guard !rows.isEmpty else { return [] }
        let ids = try outbox.add(rows, now: clock.now())
        wake.signal()
        return ids
    }

    /// One attempt at every row due now, oldest first; returns the attempts (also given to the recorder).
    @discardableResult
    public func deliverDue() throws(SQLiteError) -> [DeliveryAttempt] {
        delivering.lock()
        defer { delivering.unlock() }
        var attempts: [DeliveryAttempt] = []
        for entry in try outbox.due(at: clock.now()) {
            let attempt = try deliver(entry)
            recorder(attempt)
            attempts.append(attempt)
        }
        return attempts
    }

    /// Delivers until `shouldStop` says so, waiting until the next row is due (at most `poll`) or a `record`
    /// wakes it, so a new intent goes out at once. `log` hears a pass that could not read or write the outbox.
    public func run(poll: TimeInterval = 1, log: @Sendable (String) -> Void = { _ in }, shouldStop: @Sendable () -> Bool) {
        while !shouldStop() {
            do { try deliverDue() } catch { log("notifications: the outbox \(configuration.outboxPath) cannot be used: \(error)") }
            let next = (try? outbox.nextDue()) ?? nil
            let wait = next.map { min(poll, max(0, $0.timeIntervalSince(clock.now()))) } ?? poll
            _ = wake.wait(timeout: .now() + max(0.01, wait))
        }
    }

    private func deliver(_ entry: OutboxEntry) throws(SQLiteError) -> DeliveryAttempt {
        let number = entry.attempts + 1
        var attempt = DeliveryAttempt(delivery: entry.delivery, intent: entry.intent, subject: entry.subject, event: entry.event,
                                      target: entry.target.description, attempt: number, time: clock.now(), status: nil,
                                      error: nil, outcome: .failed)
        if entry.target.isOrigin, try outbox.isSuperseded(entry) {
            try outbox.finish(entry, attempts: entry.attempts, state: .superseded, nextAttempt: attempt.time, error: nil)
            attempt.outcome = .superseded
            return attempt
        }
        let result: AttemptResult
        switch entry.target {
        case .webhook(let url, let secret): result = webhooks.send(entry, url: url, secret: secret, now: attempt.time)
        default: result = origins.send(entry, now: attempt.time)
        }
        let now = clock.now()
        switch result {
        case .delivered(let status):
            attempt.status = status
            attempt.outcome = .delivered
            try outbox.finish(entry, attempts: number, state: .delivered, nextAttempt: now, error: nil)
        case .final(let status, let error):
            attempt.status = status
            attempt.error = error
            try outbox.finish(entry, attempts: number, state: .failed, nextAttempt: now, error: error)
        case .retry(let status, let error, let retryAfter):
            attempt.status = status
            attempt.error = error
            if number >= configuration.retry.maxAttempts {
                attempt.error = "\(error); gave up after \(number) attempts"
                try outbox.finish(entry, attempts: number, state: .failed, nextAttempt: now, error: attempt.error)
            } else {
                let next = now.addingTimeInterval(configuration.retry.wait(after: number, retryAfter: retryAfter))
                attempt.outcome = .retrying(next)
                try outbox.finish(entry, attempts: number, state: .pending, nextAttempt: next, error: error)
            }
        }
        return attempt
    }
}
