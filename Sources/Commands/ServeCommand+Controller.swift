import Artifacts
import Audit
import Apply
import Foundation
import GitSync
import Webhooks

/// `serve --controller`: the session controller beside the webhooks, on its own Lease with `--leader-elect`.
extension ServeCommand {
    static func startController(_ flags: Flags, cluster: ClusterConfig, server: WebhookServer, audit: AuditLog, artifacts: (any ArtifactStore)?, stderr: @escaping @Sendable (String) -> Void,
                                lost: @escaping @Sendable () -> Void) throws -> ControllerElection {
        var controllerFlags = ControllerCommand.Flags()
        controllerFlags.repo = flags.repo
        if flags.reconcile {
            // The reconcile loop may run on another replica (it has its own Lease), so the platform the controller
            // needs (runner registry, prices, limits) comes from one fetch of the tenant repo made here, at start.
            // Its own clone cache, so it never races the reconcile loop's fetch.
            var source = try sourceConfig(flags, for: "--controller")
            source.cacheDirectory = (source.cacheDirectory as NSString).appendingPathComponent("session-controller")
            controllerFlags.repo = try Source(config: source).fetch().directory
        }
        controllerFlags.apiURL = flags.apiURL ?? "http://127.0.0.1:\(server.port)"
        controllerFlags.quiet = flags.quiet
        if let url = flags.gitBaseURL { controllerFlags.gitBaseURL = url }
        controllerFlags.notify = flags.notify
        controllerFlags.notify.auditLog = audit
        let platform = try ControllerCommand.platform(controllerFlags.repo)
        var election = flags.leaderElection
        election?.leaseName = flags.sessionsLease
        let quiet = flags.quiet
        let log: @Sendable (String) -> Void = { line in if !quiet { stderr(line.hasSuffix("\n") ? line : line + "\n") } }
        return try ControllerElection(
            election: election, cluster: cluster, log: stderr,
            make: { [controllerFlags] in
                try ControllerCommand.start(controllerFlags, platform: platform, cluster: cluster,
                                            finished: { namespace, name in server.sessionFinished(namespace: namespace, name: name) }, artifacts: artifacts, log: log)
            },
            failed: { error in
                stderr("error: the session controller did not start: \(error)\n")
                lost()
            },
            lost: lost)
    }
}
