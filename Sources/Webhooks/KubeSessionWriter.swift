import Apply
import Foundation
import Model
import Support

/// Creates Sessions through the Apply module's `KubeClient`: a GET (present → AlreadyExists, done), else a
/// server-side apply of the Session under the field manager `tenantry-webhooks`. Applying the same
/// object twice changes nothing, so a create racing a replay is still exactly one Session. Lists go
/// through `KubeClient.list`. It never touches the `status` subresource: the session controller alone writes it.
public struct KubeSessionWriter: SessionWriter {
    public static let fieldManager = "tenantry-webhooks"

    public let config: ClusterConfig
    public let client: KubeClient

    /// `KubeClient` retries only once here: the SessionCreator has its own backoff, and a worker must
    /// not sit in a long retry loop while the cluster is down.
    public init(config: ClusterConfig, timeout: TimeInterval = 10) {
        self.config = config
        client = KubeClient(config: config, fieldManager: Self.fieldManager, retry: KubeRetryPolicy(attempts: 1), timeout: timeout)
    }

    /// The cluster of a kubeconfig file (its current context), read by the Apply module's Kubeconfig.
    public static func config(kubeconfig path: String) throws -> ClusterConfig {
        try Kubeconfig.load(paths: [path]).resolve()
    }

    static func writeError(_ error: KubeError) -> SessionWriteError {
        switch error {
        case .transport:
            return SessionWriteError(retryable: true, status: nil, message: error.description + "; is the cluster reachable?")
        case .unknownKind:
            // The Session CRD is not installed yet; the reconcile that installs it may be under way.
            return SessionWriteError(retryable: true, status: 404, message: error.description)
        case .status(let status, _, _):
            // 404: the namespace may arrive with the next reconcile; 401/403: credentials may be rotated.
            let retryable = [401, 403, 404, 408, 409, 429].contains(status.code) || status.code >= 500
            return SessionWriteError(retryable: retryable, status: status.code, message: error.description)
        case .malformed:
            return SessionWriteError(retryable: false, status: nil, message: error.description)
        }
    }

    public func create(_ object: JSONObject) throws(SessionWriteError) -> CreateOutcome {
        let reference = Manifest(owner: "", object: object).reference
        do {
            if try client.get(reference) != nil { return .alreadyExists }
            _ = try client.apply(object)
            return .created
        } catch {
            throw Self.writeError(error)
        }
    }

    public func liveSessions(namespace: String) throws(SessionWriteError) -> [String] {
        try allSessions(namespace: namespace).compactMap { item in
            let phase = item["status"]?["phase"]?.stringValue.flatMap(Session.Phase.init(rawValue:))
            if let phase, phase.isFinal { return nil }
            return item["metadata"]?["name"]?.stringValue
        }
    }

    /// Every Session in the namespace (any phase).
    public func allSessions(namespace: String) throws(SessionWriteError) -> [JSONObject] {
        do {
            return try client.list(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace)
        } catch {
            throw Self.writeError(error)
        }
    }

    /// Server-side applies a Namespace or CRD (what a test or the benchmark needs before Sessions can be
    /// created in a fresh cluster; reconciling the rest is the Reconciler's job).
    public func applyClusterObject(_ object: JSONObject) throws(SessionWriteError) {
        do {
            _ = try client.apply(object)
            client.invalidateDiscovery()
        } catch {
            throw Self.writeError(error)
        }
    }

    /// Waits until Sessions can be listed in `namespace` (the CRD is served and the namespace exists).
    public func waitUntilServed(namespace: String, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? allSessions(namespace: namespace)) != nil { return true }
            client.invalidateDiscovery()
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
