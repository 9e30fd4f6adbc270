import Apply
import Foundation
import Model
import Support
import Synchronization

/// List+watch of one kind into an `ObjectCache`, on its own thread, as a client-go informer: list, then watch
/// from the list's resourceVersion (with bookmarks); a 410 relists and replaces the cache (Apply's `watch`
/// does the relist); any other failure lists again after a backoff. Every change is handed to `changed`.
final class Informer: Sendable {
    enum Change: Sendable {
        case upserted(JSONObject)
        case deleted(JSONObject)
    }

    let apiVersion: String
    let kind: String
    let labelSelector: String?
    let fieldSelector: String?
    let cache = ObjectCache()
    private let client: KubeClient
    private let changed: @Sendable (Change) -> Void
    private let log: @Sendable (String) -> Void
    private let stopped = Atomic(false)
    private let synced = Atomic(false)

    init(client: KubeClient, apiVersion: String, kind: String, labelSelector: String? = nil, fieldSelector: String? = nil,
         log: @escaping @Sendable (String) -> Void, changed: @escaping @Sendable (Change) -> Void) {
        self.client = client
        self.apiVersion = apiVersion
        self.kind = kind
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.log = log
        self.changed = changed
    }

    /// Whether the first list has been read into the cache.
    var hasSynced: Bool { synced.load(ordering: .acquiring) }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "informer \(kind)"
        thread.start()
    }

    /// The watch ends at its next event or bookmark (or when the server ends it).
    func stop() { stopped.store(true, ordering: .releasing) }

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func run() {
        let backoff = Backoff(initial: 0.2, maximum: 10)
        var failures = 0
        while !isStopped {
            do {
                let listed = try client.listWithVersion(apiVersion: apiVersion, kind: kind, labelSelector: labelSelector, fieldSelector: fieldSelector)
                relisted(listed.items)
                synced.store(true, ordering: .releasing)
                failures = 0
                try client.watch(apiVersion: apiVersion, kind: kind, labelSelector: labelSelector, fieldSelector: fieldSelector,
                                 resourceVersion: listed.resourceVersion, timeoutSeconds: 60) { event in
                    guard !isStopped else { return false }
                    switch event {
                    case .added(let object), .modified(let object):
                        if cache.remember(object) { changed(.upserted(object)) }
                    case .deleted(let object):
                        cache.forget(object)
                        changed(.deleted(object))
                    case .bookmark:
                        break
                    case .relisted(let items, _):
                        log("watch of \(kind) expired (410): listed again, \(items.count) objects")
                        relisted(items)
                    }
                    return !isStopped
                }
            } catch {
                guard !isStopped else { return }
                failures += 1
                let delay = backoff.delay(retry: failures)
                log("list/watch of \(kind) failed: \(error); listing again in \(String(format: "%.1f", delay))s")
                Thread.sleep(forTimeInterval: delay)
            }
        }
    }

    private func relisted(_ items: [JSONObject]) {
        for gone in cache.replace(with: items) { changed(.deleted(gone)) }
        for item in items { changed(.upserted(item)) }
    }
}
