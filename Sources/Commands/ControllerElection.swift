import Apply
import Foundation
import SessionController
import Synchronization

/// The session controller of `tenantry controller` and `serve --controller`, alone or behind its own Lease
/// (`--leader-elect`, default `tenantry-sessions`): replicas campaign, the one holding the Lease runs a fresh
/// controller (its informers list everything anew, so it starts from the cluster, not from a predecessor's cache).
/// A replica that cannot renew in time stops its controller and waits for the key in progress before the Lease
/// could pass (the elector gives up leading before the renew deadline, 10 s, and others wait the lease, 15 s).
final class ControllerElection: Sendable {
    private let running = Slot()
    private let session: LeaderElectFlags.Session?
    private let log: @Sendable (String) -> Void

    /// How long a stopping controller may take to finish the key in progress; the renew deadline's slack.
    static let drainTimeout: TimeInterval = 4

    /// Starts at once without `election`; otherwise when the Lease is won. `lost` is told when leadership ends
    /// other than by `stop()` (the caller exits 1 so the pod restarts and campaigns again).
    init(election: LeaderElectionConfig?, cluster: ClusterConfig, log: @escaping @Sendable (String) -> Void,
         make: @escaping @Sendable () throws -> SessionController, failed: @escaping @Sendable (Error) -> Void,
         lost: @escaping @Sendable () -> Void) throws {
        self.log = log
        guard let election else {
            session = nil
            let controller = try make()
            running.value.withLock { $0 = controller }
            return
        }
        let running = self.running
        session = LeaderElectFlags.Session(election, cluster: cluster, log: log, start: {
            do {
                let controller = try make()
                running.value.withLock { $0 = controller }
                log("session controller: leading on Lease \(election.namespace)/\(election.leaseName) as \(election.identity)\n")
            } catch {
                failed(error)
            }
        }, lost: {
            Self.drain(running, log: log)
            lost()
        })
    }

    /// SIGTERM: stops the controller, waits for the key in progress, then releases the Lease.
    func stop() {
        Self.drain(running, log: log)
        session?.shutdown()
    }

    /// The leading controller's metrics; empty on a replica that does not lead.
    func metricsText() -> String { running.value.withLock { $0?.metricsText() } ?? "" }

    /// The controller running now, if this replica leads.
    private final class Slot: Sendable {
        let value = Mutex<SessionController?>(nil)
    }

    private static func drain(_ running: Slot, log: @Sendable (String) -> Void) {
        guard let controller = running.value.withLock({ current -> SessionController? in
            defer { current = nil }
            return current
        }) else { return }
        controller.stop()
        if !controller.waitUntilStopped(timeout: drainTimeout) { log("session controller: a worker is still finishing its key\n") }
    }
}
