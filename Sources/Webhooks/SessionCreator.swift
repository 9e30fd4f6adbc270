import Foundation
import Model
import Support

/// Turns journal entries into Session objects through a SessionWriter, in the background: retries what can
/// be retried (cluster down, 5xx, namespace not there yet) with backoff, marks an entry done only once the
/// Session exists (AlreadyExists counts), and marks it failed when the API server refuses it for good.
public final class SessionCreator: @unchecked Sendable {
    private let writer: any SessionWriter
    private let journal: Journal
    private let metrics: WebhookMetrics
    private let log: DeliveryLog.Sink
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var ready: [JournalEntry] = []
    private var delayed: [(due: Date, entry: JournalEntry, attempt: Int)] = []
    private var attempts: [String: Int] = [:]
    private var inFlight = 0
    private var stopping = false
    private var lastOutcomeHealthy = true
    private var threads: [Thread] = []
    private let workers: Int
    private let group = DispatchGroup()
    /// Longest wait between two attempts at one Session. Fixed at init: the workers read it without a lock.
    public let maxBackoff: TimeInterval

    public init(writer: any SessionWriter, journal: Journal, metrics: WebhookMetrics, workers: Int = 4, maxBackoff: TimeInterval = 5,
                log: @escaping DeliveryLog.Sink) {
        self.maxBackoff = maxBackoff
        self.writer = writer
        self.journal = journal
        self.metrics = metrics
        self.workers = workers
        self.log = log
    }

    public func start() {
        for index in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                work()
                group.leave()
            }
            thread.name = "session-creator-\(index)"
            threads.append(thread)
            thread.start()
        }
    }

    /// Stops after the attempts in progress; entries not done stay pending in the journal for the next start.
    public func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        group.wait()
    }

    public func enqueue(_ entry: JournalEntry) {
        condition.withLock {
            ready.append(entry)
            condition.signal()
        }
    }

    /// `--ack-after cluster`: waits until the journal entry of `session` is settled (its Session exists in the API
    /// server, or it was refused for good) or `deadline` passes; its state then (`pending` when it did not settle).
    public func waitUntilSettled(_ session: String, deadline: Date) -> JournalState? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let state = journal.entryState(session: session)
            if state != .pending || Date() >= deadline { return state }
            // Woken by every settled entry; the short cap covers an entry another replica's journal settled.
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
    }

    /// False while the last attempt failed for a retryable reason: new deliveries are then answered `queued`.
    public var healthy: Bool { condition.withLock { lastOutcomeHealthy } }

    /// Entries waiting here (ready, delayed or in progress).
    public var backlog: Int { condition.withLock { ready.count + delayed.count + inFlight } }

    private func next() -> JournalEntry? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopping { return nil }
            let now = Date()
            if let index = delayed.firstIndex(where: { $0.due <= now }) {
                inFlight += 1
                return delayed.remove(at: index).entry
            }
            if !ready.isEmpty {
                inFlight += 1
                return ready.removeFirst()
            }
            if let soonest = delayed.map(\.due).min() {
                _ = condition.wait(until: soonest)
            } else {
                condition.wait()
            }
        }
    }

    private func work() {
        while let entry = next() {
            let result = attempt(entry)
            condition.withLock {
                inFlight -= 1
                switch result {
                case .done:
                    attempts[entry.session] = nil
                    lastOutcomeHealthy = true
                    condition.broadcast()
                case .failed:
                    attempts[entry.session] = nil
                    condition.broadcast()
                case .retry:
                    let count = (attempts[entry.session] ?? 0) + 1
                    attempts[entry.session] = count
                    lastOutcomeHealthy = false
                    let wait = Backoff(initial: 0.2, maximum: maxBackoff).delay(retry: count)
                    delayed.append((Date().addingTimeInterval(wait), entry, count))
                    condition.signal()
                }
            }
        }
    }

    private enum Result { case done, failed, retry }

    private func attempt(_ entry: JournalEntry) -> Result {
        let id = "Session/\(entry.namespace)/\(entry.session)"
        do {
            let outcome = try writer.create(entry.object)
            journal.markCreated(entry.session)
            if outcome == .created { metrics.sessionCreated() }
            log(.info, "\(id) \(outcome == .created ? "created" : "already existed")\(entry.approvalRequired ? " (needs approval; the session controller marks it)" : "")")
            return .done
        } catch {
            if error.retryable {
                metrics.creationRetried()
                let count = condition.withLock { attempts[entry.session] ?? 0 }
                if count == 0 || count % 10 == 0 { log(.warning, "\(id) create will be retried: \(error.description)") }
                return .retry
            }
            journal.markFailed(entry.session, message: error.description)
            metrics.creationFailed()
            log(.error, "\(id) create failed for good: \(error.description)")
            return .failed
        }
    }
}
