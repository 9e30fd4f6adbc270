import GitSync
import Model

/// `tenantry status write`: commits the report of the last reconcile to the repository.
public enum StatusCommand {
    public static let usage = """
        Usage: tenantry status write [--config FILE] [--report FILE] [flags]

        Renders the status report of the last reconcile (recorded by `tenantry reconcile` as
        last-reconcile.json in the clone cache) or of --report FILE (status.json format) into the
        status directory: README.md, tenants/<name>.md and status.json. Commits it as the bot
        author and pushes it to the status branch. A report that differs only in its time makes
        no commit. If the branch moved upstream, the report is rebuilt on the new head and the
        push retried with backoff; nothing is ever force-pushed.

        Prints the status commit, or "unchanged" when nothing needed committing.

        Flags:
          --config FILE             tenantry.yaml to read
          --report FILE             status report to write instead of the last reconcile's
        \(SourceSettings.flagUsage)

        Exit status: 0 written or unchanged; 2 bad flags or the write failed.
        """

    public static func run(
        _ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void
    ) throws -> Int32 {
        let (config, extra) = try ConfigFile.load(try Verb.expect("write", of: "status", in: arguments), extra: ["--report"])
        let cache = SourceCache(config: config)
        let report = try extra["--report"].map { path throws(StatusError) in try LastReconcile.read(path) }
            ?? LastReconcile.load(from: cache)
        switch try StatusWriter(config: config).write(report) {
        case .unchanged(let branch):
            stdout("unchanged: \(branch) already has the report for \(report.revision)\n")
        case .committed(let commit, let branch, let attempts):
            stdout("committed \(commit) to \(branch): status of \(report.revision)\n")
            if attempts > 1 { stderr("the branch moved upstream; the report went in on attempt \(attempts)\n") }
        }
        return Tenantry.ExitCode.success
    }
}
