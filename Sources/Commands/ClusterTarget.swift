import Apply
import Foundation
import LocalCluster

/// The cluster a command talks to: the configured one (flags, KUBECONFIG, ~/.kube/config,
/// in-cluster), or, with no configuration at all, the local cluster in its default directory
/// (`$TENANTRY_CLUSTER_DIR`, else `~/.tenantry/cluster`): the
/// one already running there (through the kubeconfig it wrote), or one started in this process.
public final class ClusterTarget: Sendable {
    public let config: ClusterConfig
    /// The local cluster this process started, stopped by `close()`.
    public let startedServer: LocalClusterServer?

    init(config: ClusterConfig, startedServer: LocalClusterServer?) {
        self.config = config
        self.startedServer = startedServer
    }

    public static func connect(_ locator: ClusterLocator, localDirectory: String = LocalClusterServer.defaultDirectory()) throws -> ClusterTarget {
        if let config = try locator.locate() { return ClusterTarget(config: config, startedServer: nil) }
        do {
            let server = try LocalClusterServer.start(directory: localDirectory)
            let config = try Kubeconfig.load(paths: [server.kubeconfigPath]).resolve()
            return ClusterTarget(config: ClusterConfig(server: config.server, token: config.token, tls: config.tls, namespace: config.namespace,
                                                       source: "local cluster started in \(localDirectory)"),
                                 startedServer: server)
        } catch LocalClusterError.alreadyRunning {
            // Another process serves this directory: use the kubeconfig it wrote there.
            let file = localDirectory + "/kubeconfig"
            let config = try Kubeconfig.load(paths: [file]).resolve()
            return ClusterTarget(config: ClusterConfig(server: config.server, token: config.token, tls: config.tls, namespace: config.namespace,
                                                       source: "local cluster running in \(localDirectory)"),
                                 startedServer: nil)
        }
    }

    public func close() { startedServer?.stop() }
}
