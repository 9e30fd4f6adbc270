import Dispatch
import Foundation
import Model
import Support

/// `tenantry cluster start|stop|reset`: the embedded local cluster's lifecycle.
public enum ClusterCommand {
    public static let usage = """
        Usage:
          tenantry cluster start [--dir DIR] [--port N]   serve the local cluster in the foreground until SIGTERM or Ctrl-C
          tenantry cluster stop  [--dir DIR]              stop the cluster serving DIR (SIGTERM, then wait)
          tenantry cluster reset [--dir DIR]              delete every object, the token and the kubeconfig in DIR

        Flags:
          --dir DIR    where the cluster keeps its data (default: $TENANTRY_CLUSTER_DIR, else ~/.tenantry/cluster)
          --port N     port on 127.0.0.1 (default: 0, a free port; the kubeconfig records the one chosen)

        The local cluster is a Kubernetes-compatible API server for development and tests, not a production
        cluster. `start` prints the kubeconfig path: kubectl --kubeconfig DIR/kubeconfig get namespaces
        Its one node runs Pods as host processes with no isolation: trusted commands only.
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void) throws -> Int32 {
        guard let verb = arguments.first else { throw UsageError("missing subcommand: start, stop or reset\n\n\(usage)") }
        if ["--help", "-h", "help"].contains(verb) {
            stdout(usage + "\n")
            return 0
        }
        let args = try Arguments(Array(arguments.dropFirst()), valued: verb == "start" ? ["--dir", "--port"] : ["--dir"])
        _ = try args.positionals(max: 0, usage: "tenantry cluster \(verb) [--dir DIR]\(verb == "start" ? " [--port N]" : "")")
        let directory = args.value("--dir") ?? LocalClusterServer.defaultDirectory()
        guard !directory.isEmpty else { throw UsageError("--dir needs a directory") }
        var port: UInt16 = 0
        if let text = args.value("--port") {
            guard let number = UInt16(text) else { throw UsageError("--port needs a number from 0 to 65535") }
            port = number
        }
        switch verb {
        case "start": return try start(directory: directory, port: port, stdout: stdout)
        case "stop": return try stop(directory: directory, stdout: stdout)
        case "reset": return try reset(directory: directory, stdout: stdout)
        default: throw UsageError("unknown subcommand \"\(verb)\": use start, stop or reset\n\n\(usage)")
        }
    }

    private static func start(directory: String, port: UInt16, stdout: @Sendable (String) -> Void) throws -> Int32 {
        // Block the signals before any thread starts, so only the dispatch sources see them.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let stopped = DispatchSemaphore(value: 0)
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stopped.signal() }
            source.resume()
            return source
        }
        let server = try LocalClusterServer.start(directory: directory, port: port)
        stdout("local cluster serving at \(server.url) (data in \(directory))\n")
        stdout("kubeconfig: \(server.kubeconfigPath)\n")
        stdout("  kubectl --kubeconfig \(server.kubeconfigPath) get namespaces\n")
        stdout("""
            WARNING: Pods run as plain processes on this host, as the user running this cluster: images are
            not pulled, a container is its command, and nothing is isolated (no namespaces, no cgroups).
            Run trusted commands for development only, never untrusted code.

            """)
        stopped.wait()
        server.stop()
        sources.forEach { $0.cancel() }
        stdout("local cluster stopped\n")
        return 0
    }

    private static func stop(directory: String, stdout: @Sendable (String) -> Void) throws -> Int32 {
        let files = ClusterFiles(directory: directory)
        guard DirectoryLock.isHeld(files), let pid = files.recordedPID() else { throw LocalClusterError.notRunning(directory: directory) }
        kill(pid, SIGTERM)
        for _ in 0..<300 {
            if !DirectoryLock.isHeld(files) {
                stdout("local cluster in \(directory) stopped\n")
                return 0
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw LocalClusterError.stopTimedOut(directory: directory, pid: pid)
    }

    private static func reset(directory: String, stdout: @Sendable (String) -> Void) throws -> Int32 {
        let files = ClusterFiles(directory: directory)
        if DirectoryLock.isHeld(files) { throw LocalClusterError.alreadyRunning(directory: directory, pid: files.recordedPID()) }
        try files.removeAll()
        stdout("local cluster in \(directory) reset: every object, the token and the kubeconfig are gone\n")
        return 0
    }
}
