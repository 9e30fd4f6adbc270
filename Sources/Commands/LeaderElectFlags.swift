import Apply
import Foundation
import Model
import Support
import Synchronization

/// `--leader-elect` for the commands that reconcile continuously (`serve --reconcile`, `reconcile --watch`):
/// replicas elect one reconciler on a Lease; the others wait and take over when it goes.
enum LeaderElectFlags {
    static let valued = ["--leader-elect-lease", "--leader-elect-namespace"]
    static let switches = ["--leader-elect"]

    static let usage = """
          --leader-elect            reconcile only while holding the Lease (replicas elect one reconciler; lease 15s,
                                    renew deadline 10s, retry 2s; holder: $POD_NAME, else the host name)
          --leader-elect-lease NAME the Lease (default tenantry-reconciler)
          --leader-elect-namespace NS  its namespace (default tenantry-system)
        """

    /// The session controller's Lease (the reconciler's is `LeaderElectionConfig`'s default, `tenantry-reconciler`).
    static let sessionsLease = "tenantry-sessions"

    /// The election's settings, or nil without `--leader-elect`; `defaultLease` names the Lease without `--leader-elect-lease`.
    static func parse(_ args: Arguments, defaultLease: String = LeaderElectionConfig().leaseName) throws(UsageError) -> LeaderElectionConfig? {
        guard args.isSet("--leader-elect") else {
            if let flag = valued.first(where: { args.value($0) != nil }) { throw UsageError("\(flag) needs --leader-elect") }
            return nil
        }
        var config = LeaderElectionConfig(leaseName: defaultLease)
        if let name = args.value("--leader-elect-lease") { config.leaseName = name }
        if let namespace = args.value("--leader-elect-namespace") { config.namespace = namespace }
        for (flag, value) in [("--leader-elect-lease", config.leaseName), ("--leader-elect-namespace", config.namespace)] {
            guard value.range(of: #"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"#, options: .regularExpression) != nil else {
                throw UsageError("\(flag) must be a DNS subdomain name (lower case letters, digits, '-' and '.'), got \"\(value)\"")
            }
        }
        if let problem = config.problems.first { throw UsageError(problem) }
        return config
    }

    /// Runs `start` once this replica leads, and `lost` if it stops leading before `shutdown()` was called. The
    /// elector's own requests give up well inside the renew deadline (one attempt, half the deadline).
    final class Session: Sendable {
        let elector: LeaderElector
        private let stopping = Flag()

        private final class Flag: Sendable {
            let value = Mutex(false)
        }

        init(_ config: LeaderElectionConfig, cluster: ClusterConfig, log: @escaping @Sendable (String) -> Void,
             start: @escaping @Sendable () -> Void, lost: @escaping @Sendable () -> Void) {
            let client = KubeClient(config: cluster, fieldManager: "tenantry-leader-election",
                                    retry: KubeRetryPolicy(attempts: 1), timeout: config.renewDeadline / 2)
            let stopping = self.stopping
            elector = LeaderElector(config: config, client: client, log: { log($0 + "\n") },
                                    onStartedLeading: { Thread.detachNewThread(start) },
                                    onStoppedLeading: { if !stopping.value.withLock({ $0 }) { lost() } })
            log("leader election: \(config.identity) campaigning for Lease \(config.namespace)/\(config.leaseName)\n")
            elector.start()
        }

        /// SIGTERM: call after the work has stopped writing; releases the Lease so the next replica takes over at once.
        func shutdown() {
            stopping.value.withLock { $0 = true }
            elector.stop()
        }
    }
}
