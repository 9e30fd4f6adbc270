import Apply
import Foundation
import Model

/// Every Session of the cluster, kept by one list+watch (with bookmarks; a 410 relists), so that list and get
/// answer from memory instead of asking the cluster on every call — as kube-apiserver's watch cache serves
/// `resourceVersion=0` reads. What it holds trails the cluster by the watch's delay (milliseconds), which the
/// spec states. Until the first list is in, and after the watch fails until it has listed again, `sessions`
/// is nil and callers ask the cluster.
/// Unchecked Sendable: the fields are guarded by `lock`.
public final class SessionIndex: @unchecked Sendable {
    private let client: KubeClient
    private let lock = NSLock()
    private var byNamespace: [String: [String: JSONObject]] = [:]
    private var synced = false
    private var stopped = false

    public init(client: KubeClient) { self.client = client }

    /// Starts the watch on a thread of its own.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "session-index"
        thread.start()
    }

    /// The watch ends at its next event or bookmark.
    public func stop() { lock.withLock { stopped = true } }

    /// The namespace's Sessions as last seen, nil while the index is not in step with the cluster.
    public func sessions(in namespace: String) -> [JSONObject]? {
        lock.withLock { synced ? Array((byNamespace[namespace] ?? [:]).values) : nil }
    }

    /// One Session: `.some(nil)` when the index knows it does not exist, nil while it is not in step.
    public func session(_ namespace: String, _ name: String) -> JSONObject?? {
        lock.withLock { synced ? .some(byNamespace[namespace]?[name]) : nil }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func run() {
        var delay = 0.2
        while !isStopped {
            do {
                let listed = try client.listWithVersion(apiVersion: Session.apiVersion, kind: Session.kind)
                replace(listed.items)
                delay = 0.2
                try client.watch(apiVersion: Session.apiVersion, kind: Session.kind, resourceVersion: listed.resourceVersion) { event in
                    switch event {
                    case .added(let object), .modified(let object): put(object)
                    case .deleted(let object): remove(object)
                    case .relisted(let items, _): replace(items)
                    case .bookmark: break
                    }
                    return !isStopped
                }
            } catch {
                lock.withLock { synced = false }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 10)
            }
        }
    }

    private func replace(_ items: [JSONObject]) {
        var fresh: [String: [String: JSONObject]] = [:]
        for item in items {
            guard let namespace = item["metadata"]?["namespace"]?.stringValue, let name = item["metadata"]?["name"]?.stringValue else { continue }
            fresh[namespace, default: [:]][name] = item
        }
        lock.withLock {
            byNamespace = fresh
            synced = true
        }
    }

    private func put(_ object: JSONObject) {
        guard let namespace = object["metadata"]?["namespace"]?.stringValue, let name = object["metadata"]?["name"]?.stringValue else { return }
        var object = object
        // Watch events carry no apiVersion/kind on some servers; list items get them back in listWithVersion.
        object["apiVersion"] = .string(Session.apiVersion)
        object["kind"] = .string(Session.kind)
        lock.withLock { byNamespace[namespace, default: [:]][name] = object }
    }

    private func remove(_ object: JSONObject) {
        guard let namespace = object["metadata"]?["namespace"]?.stringValue, let name = object["metadata"]?["name"]?.stringValue else { return }
        _ = lock.withLock { byNamespace[namespace]?.removeValue(forKey: name) }
    }
}
