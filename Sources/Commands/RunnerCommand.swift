import Foundation
import HTTPClient
import Runner
import Sessions
import Support

/// `tenantry runner`: the thin entry to `Runner.run`, as a session's pod starts it.
enum RunnerCommand {
    static let usage = """
    Usage: tenantry runner [--session-file PATH] [--termination-log PATH] [--ca-file PATH]

    Runs one session inside its pod (the reference runner; see specs/runner.md): reads the session file, clones the
    trigger's repository at its ref, runs the framework's command (claude-code, or script: a shell command),
    streams its output, stops it at the deadline or when the budget is spent, uploads the log, the workspace
    patch and the declared outputs to Tenantry with the pod's ServiceAccount token, and writes a JSON summary
    to the termination-message file.

    Flags:
      --session-file PATH      the session file (default \(SessionFile.mountPath))
      --termination-log PATH   where the summary goes (default /dev/termination-log)
      --ca-file PATH           CA bundle to trust for Tenantry's API (default: the system's)

    Exit codes: 0 the agent succeeded; 1 it failed, was stopped, or the session could not start (the summary says why);
    2 usage error.
    """

    static func run(_ words: [String], _ console: Console) throws -> Int32 {
        let args = try Arguments(words, valued: ["--session-file", "--termination-log", "--ca-file"])
        _ = try args.positionals(max: 0, usage: "tenantry runner [flags]")
        let options = Runner.Options(sessionFile: args.value("--session-file") ?? SessionFile.mountPath,
                                     terminationLog: args.value("--termination-log") ?? "/dev/termination-log",
                                     tls: TLSOptions(caFile: args.value("--ca-file")))
        let outcome = Runner.run(options)
        console.err("tenantry runner: \(outcome.summary.result.rawValue): \(outcome.summary.summary)\n")
        return outcome.exitCode
    }
}
