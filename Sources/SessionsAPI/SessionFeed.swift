import Apply
import Foundation
import Model
import Sessions

/// One Kubernetes watch of a namespace's Sessions, shared by every listener of `GET …/events` there: the Sessions
/// as they are now, and the last `capacity` changes, so a listener that reconnects with `Last-Event-ID` gets only
/// what it missed. The watch asks for bookmarks and lists again on 410 Gone (Apply's `KubeClient.watch`); the
/// differences a relist finds are changes like any other.
/// Unchecked Sendable: every mutable field is read and written with `condition` locked.
final class NamespaceFeed: @unchecked Sendable {
    let namespace: String
    private let capacity: Int
    private let condition = NSCondition()
    /// The Sessions as listed and watched (with their metadata: the summary names who created it and what it reruns).
    private var sessions: [String: SessionView] = [:]
    /// Oldest first; every change after `coverage` is here.
    private var changes: [SessionChange] = []
    private var coverage: Int64 = 0
    /// Where the feed stands: the newest version seen (a change, a bookmark, a list).
    private var version: Int64 = 0
    private var ready = false
    private var ended = false
    /// Listeners now, and when the last one left (counted by `SessionFeeds` under its own lock).
    var listeners = 0
    var idleSince = Date()

    init(namespace: String, capacity: Int) {
        self.namespace = namespace
        self.capacity = capacity
    }

    /// Lists, then watches until `keepGoing` says stop (asked at every event; the server sends a bookmark at
    /// least every minute) or the watch fails. On the calling thread.
    func run(client: KubeClient, keepGoing: @escaping () -> Bool) {
        defer {
            condition.withLock {
                ended = true
                condition.broadcast()
            }
        }
        do {
            let listed = try client.listWithVersion(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace)
            condition.withLock {
                sessions = Self.parse(listed.items)
                version = Int64(listed.resourceVersion) ?? 0
                coverage = version
                ready = true
                condition.broadcast()
            }
            try client.watch(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, resourceVersion: listed.resourceVersion) { event in
                apply(event)
                return keepGoing()
            }
        } catch {
            // The listeners' streams end; their clients reconnect (with Last-Event-ID) and start a new feed.
        }
    }

    func apply(_ event: WatchEvent) {
        let at = Int64(event.resourceVersion) ?? 0
        condition.withLock {
            switch event {
            case .added(let object), .modified(let object):
                guard let view = try? SessionView(object: object) else { break }
                changes += SessionChanges.between(sessions[view.session.name], view, resourceVersion: at)
                sessions[view.session.name] = view
            case .deleted(let object):
                guard let name = object["metadata"]?["name"]?.stringValue, let old = sessions.removeValue(forKey: name) else { break }
                changes += SessionChanges.between(old, nil, resourceVersion: at)
            case .bookmark:
                break
            case .relisted(let items, _):
                let now = Self.parse(items)
                for name in Set(now.keys).union(sessions.keys).sorted() {
                    changes += SessionChanges.between(sessions[name], now[name], resourceVersion: at)
                }
                sessions = now
            }
            version = max(version, at)
            if changes.count > capacity {
                let dropped = changes.count - capacity
                coverage = changes[dropped - 1].resourceVersion
                changes.removeFirst(dropped)
            }
            condition.broadcast()
        }
    }

    /// What a listener that has seen everything up to `position` (nil: nothing) is sent next.
    enum Batch: Equatable {
        /// Every Session now (`position` was nil, older than the history kept, or not this cluster's).
        case snapshot(Data, at: Int64)
        case changes(Data, at: Int64)
        /// Nothing new before the deadline.
        case idle
        /// The watch is over.
        case ended
    }

    func next(after position: Int64?, until deadline: Date, cancelled: () -> Bool) -> Batch {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if cancelled() { return .ended }
            if ready {
                guard let position, position >= coverage, position <= version else { return .snapshot(snapshotFrame(), at: version) }
                let start = changes.lastIndex { $0.resourceVersion <= position }.map { $0 + 1 } ?? 0
                if start < changes.count {
                    let newer = changes[start...]
                    return .changes(newer.reduce(into: Data()) { $0.append($1.frame) }, at: newer.last!.resourceVersion)
                }
            }
            if ended { return .ended }
            if !condition.wait(until: deadline) { return .idle }
        }
    }

    /// Wakes listeners waiting in `next` (one of them was cancelled).
    func wake() { condition.withLock { condition.broadcast() } }

    private func snapshotFrame() -> Data {
        let newestFirst = sessions.values.sorted { ($0.createdAt, $0.session.name) > ($1.createdAt, $1.session.name) }
        return ServerSentEvents.event(id: String(version), name: "snapshot",
                                      data: ["resourceVersion": .string(String(version)), "sessions": .array(newestFirst.map { .object($0.summary) })])
    }

    private static func parse(_ items: [JSONObject]) -> [String: SessionView] {
        var sessions: [String: SessionView] = [:]
        for item in items { if let view = try? SessionView(object: item) { sessions[view.session.name] = view } }
        return sessions
    }
}

/// The feeds of all namespaces: the first listener of a namespace starts its watch, which ends `linger` after
/// the last one left (a browser's EventSource reconnects within seconds, and finds it still there).
public final class SessionFeeds: @unchecked Sendable {
    private let client: KubeClient
    private let capacity: Int
    private let linger: TimeInterval
    private let lock = NSLock()
    private var feeds: [String: NamespaceFeed] = [:]
    private var stopped = false

    /// `capacity`: the changes kept per namespace for listeners that resume.
    public init(client: KubeClient, capacity: Int = 1000, linger: TimeInterval = 30) {
        self.client = client
        self.capacity = capacity
        self.linger = linger
    }

    /// Namespaces with a watch open now.
    public var watching: [String] { lock.withLock { feeds.keys.sorted() } }

    /// Ends every watch (at its next event or bookmark); `serve` calls it when it stops.
    public func stop() { lock.withLock { stopped = true } }

    func join(_ namespace: String) -> NamespaceFeed {
        lock.withLock {
            if let feed = feeds[namespace] {
                feed.listeners += 1
                return feed
            }
            let feed = NamespaceFeed(namespace: namespace, capacity: capacity)
            feed.listeners = 1
            feeds[namespace] = feed
            let thread = Thread { [self] in
                feed.run(client: client) { self.keepRunning(feed) }
                lock.withLock { if feeds[namespace] === feed { feeds[namespace] = nil } }
            }
            thread.name = "session-feed-\(namespace)"
            thread.start()
            return feed
        }
    }

    func leave(_ feed: NamespaceFeed) {
        lock.withLock {
            feed.listeners -= 1
            if feed.listeners == 0 { feed.idleSince = Date() }
        }
    }

    /// Asked by a feed at every event: false ends its watch (and a later listener starts a new one).
    private func keepRunning(_ feed: NamespaceFeed) -> Bool {
        lock.withLock {
            guard stopped || (feed.listeners == 0 && Date().timeIntervalSince(feed.idleSince) >= linger) else { return true }
            if feeds[feed.namespace] === feed { feeds[feed.namespace] = nil }
            return false
        }
    }
}
