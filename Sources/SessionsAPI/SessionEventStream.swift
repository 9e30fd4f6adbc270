import Access
import Foundation
import Model

/// One listener of `GET …/events`: the frames its feed has for it, a heartbeat comment when there was nothing
/// to send for `heartbeat` seconds, and the caller checked again (token and `watch` review, through the caches)
/// at most every `recheck` seconds while it listens — a caller who lost access gets `event: forbidden` and the
/// stream ends. `next` is called by the HTTP server's stream pump, one call at a time.
/// Unchecked Sendable: `position`, `checkedAt` and `finished` are touched by `next` alone; `cancelled` is locked.
final class SessionEventStream: @unchecked Sendable {
    private let feed: NamespaceFeed
    private let feeds: SessionFeeds
    private let heartbeat: TimeInterval
    private let recheck: TimeInterval
    /// nil while the caller may still watch; else the error body to end with.
    private let stillAllowed: @Sendable () -> AccessFailure?
    private let traceID: String
    private var position: Int64?
    private var greeting: Data?
    private var checkedAt = Date()
    private var finished = false
    private let lock = NSLock()
    private var cancelled = false

    init(feed: NamespaceFeed, feeds: SessionFeeds, after position: Int64?, retryMilliseconds: Int, heartbeat: TimeInterval,
         recheck: TimeInterval, traceID: String, stillAllowed: @escaping @Sendable () -> AccessFailure?) {
        self.feed = feed
        self.feeds = feeds
        self.position = position
        self.heartbeat = heartbeat
        self.recheck = recheck
        self.traceID = traceID
        self.stillAllowed = stillAllowed
        greeting = ServerSentEvents.retry(milliseconds: retryMilliseconds)
    }

    func next() -> Data? {
        if let greeting {
            self.greeting = nil
            return greeting
        }
        guard !finished else { return nil }
        let batch = feed.next(after: position, until: Date().addingTimeInterval(heartbeat)) { lock.withLock { cancelled } }
        if Date().timeIntervalSince(checkedAt) >= recheck {
            checkedAt = Date()
            if let failure = stillAllowed() {
                finished = true
                return ServerSentEvents.event(id: "", name: failure.status == 403 ? "forbidden" : "error", data: failure.body(traceID: traceID))
            }
        }
        switch batch {
        case .snapshot(let frame, let at), .changes(let frame, let at):
            position = at
            return frame
        case .idle:
            return ServerSentEvents.comment("heartbeat")
        case .ended:
            finished = true
            return nil
        }
    }

    /// The connection is gone: stop waiting, and let the feed know one listener fewer (once).
    func cancel() {
        let first = lock.withLock { () -> Bool in
            defer { cancelled = true }
            return !cancelled
        }
        guard first else { return }
        feed.wake()
        feeds.leave(feed)
    }
}
