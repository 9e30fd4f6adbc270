import Foundation

/// What retention removes: Sessions that ended longer than `retention.sessions` ago (deleting one collects its
/// Job, Pod and ConfigMap by their ownerReferences), and the cutoff before which artifacts go.
public enum SessionRetention {
    /// The Sessions of `sessions` in a final phase whose end (`completionTime`, else creation) is older than the
    /// retention; a Session still running is never chosen, however old.
    public static func expiredSessions(_ sessions: [SessionObject], policy: PolicySnapshot, now: Date) -> [SessionObject] {
        sessions.filter { session in
            guard session.status.isFinal else { return false }
            let ended = session.status.completionTime ?? session.creationTimestamp
            return now.timeIntervalSince(ended) > policy.sessionRetention
        }
    }

    /// Artifacts created before this are removed (`ArtifactStore.deleteExpired(namespace:before:)`).
    public static func artifactCutoff(policy: PolicySnapshot, now: Date) -> Date {
        now.addingTimeInterval(-policy.artifactRetention)
    }
}
