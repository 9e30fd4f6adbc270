import Apply
import Foundation
import Model
import Sessions
import Support

/// Retention: Sessions in a final phase older than their namespace's `retention.sessions` are deleted (the garbage
/// collector takes their Jobs, Pods and ConfigMaps by ownerReferences), and artifacts older than
/// `retention.artifacts` leave the artifact store. Run every `Configuration.retentionInterval` and on demand.
extension SessionController {
    public struct RetentionPass: Sendable, Hashable {
        /// `namespace/name` of each Session deleted.
        public var sessions: [String] = []
        /// `namespace/session/name` of each artifact removed.
        public var artifacts: [String] = []

        public init(sessions: [String] = [], artifacts: [String] = []) {
            self.sessions = sessions
            self.artifacts = artifacts
        }
    }

    /// One pass over every namespace with a NamespacePolicy, from the caches, at the configuration's clock.
    @discardableResult
    public func enforceRetention() -> RetentionPass {
        var pass = RetentionPass()
        let now = configuration.clock()
        for policyObject in policies.cache.all() {
            guard let namespace = policyObject["metadata"]?["namespace"]?.stringValue else { continue }
            let policy: PolicySnapshot
            do { policy = try PolicySnapshot(object: policyObject) } catch {
                configuration.log("retention in \(namespace): the NamespacePolicy cannot be read: \(error)")
                continue
            }
            let sessions = self.sessions.cache.all(namespace: namespace, where: Self.isFinal).compactMap { try? SessionObject(object: $0) }
            for expired in SessionRetention.expiredSessions(sessions, policy: policy, now: now) {
                let reference = ObjectReference(apiVersion: Session.apiVersion, kind: Session.kind, namespace: namespace, name: expired.name)
                do {
                    // Background: the Session goes at once, the collector takes what it owns.
                    guard try client.delete(reference, propagationPolicy: .background) else { continue }
                } catch {
                    configuration.log("retention: session \(namespace)/\(expired.name) not deleted: \(error); next pass retries")
                    continue
                }
                counters.withLock { $0.sessionsDeleted += 1 }
                pass.sessions.append("\(namespace)/\(expired.name)")
                let ended = expired.status.completionTime ?? expired.creationTimestamp
                configuration.log("retention: deleted session \(namespace)/\(expired.name) (\(expired.status.phase.rawValue) since \(Timestamp.rfc3339(ended)), retention \(Int(policy.sessionRetention))s)")
            }
            guard let expireArtifacts = configuration.expireArtifacts else { continue }
            let cutoff = SessionRetention.artifactCutoff(policy: policy, now: now)
            do {
                let removed = try expireArtifacts(namespace, cutoff)
                counters.withLock { $0.artifactsDeleted += removed.count }
                for key in removed { configuration.log("retention: deleted artifact \(key) (created before \(Timestamp.rfc3339(cutoff)))") }
                pass.artifacts += removed
            } catch {
                configuration.log("retention in \(namespace): artifacts not removed: \(error); next pass retries")
            }
        }
        return pass
    }
}
