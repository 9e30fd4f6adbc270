import Foundation

extension LocalClusterServer {
    /// Where the local cluster keeps its data unless told otherwise: `$TENANTRY_CLUSTER_DIR`, else
    /// `~/.tenantry/cluster`. `tenantry cluster start`, the commands that fall back to the local cluster and
    /// `tenantry serve` all use it, so they find the same cluster from any working directory.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment["TENANTRY_CLUSTER_DIR"] ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.tenantry/cluster"
    }
}
