import Dispatch
import Foundation
import LocalCluster
import Model
import Support

/// `tenantry cluster start|stop|reset`: the embedded local cluster's lifecycle.
public enum ClusterCommand {
    public static let usage = """
        Usage:
          tenantry cluster start [--dir DIR] [--port N]   serve the local cluster in the foreground until SIGTERM or Ctrl-C
          tenantry cluster stop  [--dir DIR]              stop the cluster serving DIR (SIGTERM, then wait)
          tenantry cluster reset [--dir DIR]              delete every object, the token, the key and the kubeconfig in DIR
          tenantry cluster token [--dir DIR] --user U [--group G]... [--duration 1h]
                                                          print a token for user U in groups G, signed by the cluster's key

        Flags:
          --dir DIR    where the cluster keeps its data (default: $TENANTRY_CLUSTER_DIR, else ~/.tenantry/cluster)
          --port N     port on 127.0.0.1 (default: 0, a free port; the kubeconfig records the one chosen)
          --user U     (token) the user name the token authenticates as
          --group G    (token) a group of the user; repeat for more (system:authenticated is always added)
          --duration D (token) how long the token is valid: 90s, 30m, 1h, 2h30m, 7d (default: 1h)

        The local cluster is a Kubernetes-compatible API server for development and tests, not a production
        cluster. `start` prints the kubeconfig path: kubectl --kubeconfig DIR/kubeconfig get namespaces
        Its one node runs Pods as host processes with no isolation: trusted commands only.
        """

    public static func run(_ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void) throws -> Int32 {
        guard let verb = arguments.first else { throw UsageError("missing subcommand: start, stop, reset or token\n\n\(usage)") }
        if ["--help", "-h", "help"].contains(verb) {
            stdout(usage + "\n")
            return Tenantry.ExitCode.success
        }
        let valued = ["start": ["--dir", "--port"], "token": ["--dir", "--user", "--group", "--duration"]][verb] ?? ["--dir"]
        let args = try Arguments(Array(arguments.dropFirst()), valued: valued)
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
        case "token":
            guard let user = args.value("--user") else { throw UsageError("tenantry cluster token needs --user: the name the token authenticates as") }
            let text = args.value("--duration") ?? "1h"
            guard let seconds = DurationText.seconds(text).map(Int.init), seconds > 0 else { throw UsageError("--duration needs a duration such as 90s, 30m, 1h or 7d, got \"\(text)\"") }
            stdout(try UserTokens.mint(directory: directory, user: user, groups: args.values("--group"), validForSeconds: seconds) + "\n")
            return Tenantry.ExitCode.success
        default: throw UsageError("unknown subcommand \"\(verb)\": use start, stop, reset or token\n\n\(usage)")
        }
    }

    private static func start(directory: String, port: UInt16, stdout: @Sendable (String) -> Void) throws -> Int32 {
        // Block the signals before any thread starts, so only the dispatch sources see them.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        defer { for number in [SIGTERM, SIGINT] { signal(number, SIG_DFL) } }
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
        return Tenantry.ExitCode.success
    }

    private static func stop(directory: String, stdout: @Sendable (String) -> Void) throws -> Int32 {
        guard let pid = LocalClusterServer.servingPID(directory: directory) else { throw LocalClusterError.notRunning(directory: directory) }
        kill(pid, SIGTERM)
        for _ in 0..<300 {
            if !LocalClusterServer.isServing(directory: directory) {
                stdout("local cluster in \(directory) stopped\n")
                return Tenantry.ExitCode.success
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw LocalClusterError.stopTimedOut(directory: directory, pid: pid)
    }

    private static func reset(directory: String, stdout: @Sendable (String) -> Void) throws -> Int32 {
        try LocalClusterServer.removeData(directory: directory)
        stdout("local cluster in \(directory) reset: every object, the token, the signing key and the kubeconfig are gone\n")
        return Tenantry.ExitCode.success
    }
}
