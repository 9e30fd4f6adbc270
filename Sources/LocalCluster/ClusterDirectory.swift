import Foundation

/// What `tenantry cluster stop|reset` need to know about a cluster directory, without its files' layout.
public extension LocalClusterServer {
    /// The pid of the server holding `directory`'s lock, or nil when none serves it.
    static func servingPID(directory: String) -> Int32? {
        let files = ClusterFiles(directory: directory)
        guard DirectoryLock.isHeld(files) else { return nil }
        return files.recordedPID()
    }

    /// Whether a server holds `directory`'s lock (it may not have written its pid yet).
    static func isServing(directory: String) -> Bool {
        DirectoryLock.isHeld(ClusterFiles(directory: directory))
    }

    /// Deletes every object, the token and the kubeconfig of a cluster that is not running.
    static func removeData(directory: String) throws {
        let files = ClusterFiles(directory: directory)
        if DirectoryLock.isHeld(files) { throw LocalClusterError.alreadyRunning(directory: directory, pid: files.recordedPID()) }
        try files.removeAll()
    }
}
