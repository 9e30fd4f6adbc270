import Foundation
import HTTPServer
import Model

extension APIServer {
    /// `?watch=1`: a stream of `{"type":…,"object":…}` lines. From resourceVersion "" or "0" it starts
    /// with ADDED for every current object; from a version older than the kept history it sends one
    /// ERROR event with a 410 Expired Status, as Kubernetes does, and ends. With `allowWatchBookmarks=true`
    /// an idle watch gets BOOKMARK events (the object: kind, apiVersion and metadata.resourceVersion only)
    /// instead of blank keep-alive lines, and one more just before it times out, as kube-apiserver sends them.
    func watch(_ target: ResourceRoute, _ request: Request) throws -> Response {
        let labels = try LabelSelector(parsing: request.query["labelSelector"] ?? "")
        let fields = try FieldSelector(parsing: request.query["fieldSelector"] ?? "", type: target.type)
        let requested = request.query["resourceVersion"] ?? ""
        let timeout = Double(request.query["timeoutSeconds"] ?? "").map { max(1, $0) } ?? 1_800
        let present = try presenter(request, target) ?? { $0 }
        let filter = WatchFilter(type: target.type, namespace: target.namespace, labels: labels, fields: fields, present: present,
                                 bookmarks: ["true", "1"].contains(request.query["allowWatchBookmarks"] ?? ""))
        let cursor: WatchCursor = try store.read { transaction in
            let latest = try transaction.latestResourceVersion()
            if requested.isEmpty || requested == "0" {
                let current = try transaction.list(target.type, namespace: target.namespace, after: nil, limit: Int.max).filter(filter.matches)
                return WatchCursor(position: latest, initial: current.map { WatchCursor.line("ADDED", present($0)) })
            }
            guard let version = Int64(requested) else {
                throw APIError.badRequest("invalid resourceVersion \"\(requested)\" for watch: pass the resourceVersion of a list or object")
            }
            if version < (try transaction.compactedResourceVersion()) {
                return WatchCursor(position: latest, initial: [WatchCursor.expired(version)], finished: true)
            }
            return WatchCursor(position: version, initial: [])
        }
        let deadline = Date().addingTimeInterval(timeout)
        let stream = ResponseStream(
            next: { [store] in cursor.next(store: store, filter: filter, deadline: deadline) },
            cancel: { [store] in
                cursor.cancel()
                store.changes.wake()
            })
        return Response(status: 200, headers: ["Content-Type": "application/json", "Cache-Control": "no-cache"], stream: stream)
    }
}

/// Which events a watch passes on.
struct WatchFilter: Sendable {
    var type: ResourceType
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector
    /// The object as the client asked to see it: itself, or a one-row Table.
    var present: @Sendable (JSON) -> JSON
    /// `allowWatchBookmarks=true`: idle time is marked with BOOKMARK events.
    var bookmarks = false

    /// A BOOKMARK event: where the watch stands, in an object of the watched kind that carries nothing else.
    func bookmark(at resourceVersion: Int64) -> Data {
        WatchCursor.line("BOOKMARK", ["kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                                      "metadata": ["resourceVersion": .string(String(resourceVersion))]])
    }

    func matches(_ object: JSON) -> Bool {
        (namespace == nil || object.namespace == namespace) && labels.matches(object.labels) && fields.matches(object)
    }

    /// The event type this watch sees, or nil to skip it. As in Kubernetes, a change that moves an
    /// object into the selection is ADDED and one that moves it out is DELETED.
    func seen(_ event: StoredEvent) -> String? {
        let now = matches(event.object)
        guard event.type == "MODIFIED", let previous = event.previous else { return now ? event.type : nil }
        switch (matches(previous), now) {
        case (true, true): return "MODIFIED"
        case (false, true): return "ADDED"
        case (true, false): return "DELETED"
        case (false, false): return nil
        }
    }
}

/// Where one watch stands: the last resourceVersion it looked at and lines not yet written.
/// Unchecked Sendable: every field is touched only with `lock` held.
final class WatchCursor: @unchecked Sendable {
    private let lock = NSLock()
    private var position: Int64
    private var pending: [Data]
    private var finished: Bool
    private var cancelled = false
    /// A line of whitespace keeps an idle watch's connection from timing out; JSON decoders skip it.
    private static let heartbeatInterval: TimeInterval = 15

    init(position: Int64, initial: [Data], finished: Bool = false) {
        self.position = position
        self.pending = initial
        self.finished = finished
    }

    static func line(_ type: String, _ object: JSON) -> Data {
        Data((JSON.object(["type": .string(type), "object": object]).compactText + "\n").utf8)
    }

    static func expired(_ version: Int64) -> Data {
        line("ERROR", APIError.gone("too old resource version: \(version); start a new watch from a fresh list").status)
    }

    func cancel() { lock.withLock { cancelled = true } }

    /// Every waiting line as one chunk; call with `lock` held.
    private func takePending() -> Data? {
        guard !pending.isEmpty else { return nil }
        let chunk = pending.reduce(into: Data()) { $0.append($1) }
        pending.removeAll()
        return chunk
    }

    /// The next chunk to write, waiting for changes; nil ends the stream.
    func next(store: Store, filter: WatchFilter, deadline: Date) -> Data? {
        let heartbeatAt = Date().addingTimeInterval(Self.heartbeatInterval)
        while true {
            let (position, done) = lock.withLock { () -> (Int64, Bool) in
                (self.position, cancelled || (pending.isEmpty && finished))
            }
            if done { return nil }
            if let chunk = lock.withLock({ takePending() }) { return chunk }
            if Date() >= deadline {
                // The last word of a bookmarked watch says where it ended, so the client resumes from there.
                guard filter.bookmarks else { return nil }
                lock.withLock { finished = true }
                return filter.bookmark(at: position)
            }
            guard let (events, reached, expired) = try? store.read({ transaction -> ([StoredEvent], Int64, Bool) in
                if position < (try transaction.compactedResourceVersion()) { return ([], position, true) }
                let events = try transaction.events(filter.type, after: position, limit: 500)
                let reached = events.count == 500 ? events.last!.resourceVersion : try transaction.latestResourceVersion()
                return (events, reached, false)
            }) else { return nil }
            let lines = expired ? [Self.expired(position)] : events.compactMap { event in filter.seen(event).map { Self.line($0, filter.present(event.object)) } }
            lock.withLock {
                self.position = max(self.position, reached)
                pending += lines
                if expired { finished = true }
            }
            if !lines.isEmpty { continue }
            if Date() >= heartbeatAt { return filter.bookmarks ? filter.bookmark(at: reached) : Data("\n".utf8) }
            if !store.changes.wait(after: reached, until: min(deadline, heartbeatAt)) { return nil }
        }
    }
}
