import Apply
import Artifacts
import Foundation

/// What the streaming endpoints (`…/events`, `…/sessions/{id}/logs`) need besides the gate and the audit trail:
/// the cluster (Sessions, Pods and their logs), the artifact store (a finished session's log) and the shared
/// watches.
public final class SessionStreams: Sendable {
    public struct Options: Sendable, Hashable {
        /// A comment line after this long without an event.
        public var heartbeat: TimeInterval
        /// How often a listener's token and review are asked again (through the caches) while it listens.
        public var recheck: TimeInterval
        /// The `retry:` a client waits before it reconnects.
        public var retryMilliseconds: Int
        /// How often a followed log looks for its session's Pod while the session has none running yet.
        public var podPoll: TimeInterval

        public init(heartbeat: TimeInterval = 15, recheck: TimeInterval = 10, retryMilliseconds: Int = 3000, podPoll: TimeInterval = 1) {
            self.heartbeat = heartbeat
            self.recheck = recheck
            self.retryMilliseconds = retryMilliseconds
            self.podPoll = podPoll
        }
    }

    public let client: KubeClient
    public let artifacts: (any ArtifactStore)?
    public let feeds: SessionFeeds
    public let options: Options

    public init(client: KubeClient, artifacts: (any ArtifactStore)?, feeds: SessionFeeds? = nil, options: Options = Options()) {
        self.client = client
        self.artifacts = artifacts
        self.feeds = feeds ?? SessionFeeds(client: client)
        self.options = options
    }
}
