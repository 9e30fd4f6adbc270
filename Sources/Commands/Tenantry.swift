import GitSync
import LocalCluster
import Model
import Plan
import Reconciler
import Webhooks

/// The `tenantry` command line: picks the subcommand, runs it, and turns what it threw into a message and an
/// exit code in one place (`Failure.report`).
public enum Tenantry {
    public static let version = "0.1.0"

    /// Exit codes every command shares.
    public enum ExitCode {
        public static let success: Int32 = 0
        /// The command ran and found problems (an invalid tenant, failed objects) or, for diff and plan, changes.
        public static let findings: Int32 = 1
        /// Bad usage, a broken platform file, or a failure that stopped the command.
        public static let failure: Int32 = 2
    }

    struct Subcommand: Sendable {
        let name: String
        let summary: String
        let usage: String
        let run: @Sendable ([String], Console) throws -> Int32
    }

    static let subcommands: [Subcommand] = [
        Subcommand(name: "validate", summary: "Check a tenant repo and report every problem with file, line and field",
                   usage: RenderCommands.validateUsage, run: RenderCommands.validate),
        Subcommand(name: "render", summary: "Turn a tenant repo into Kubernetes manifests",
                   usage: RenderCommands.renderUsage, run: RenderCommands.render),
        Subcommand(name: "source", summary: "Fetch the tenant repo from git and print its revision and changed files",
                   usage: SourceCommand.usage, run: { try SourceCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "status", summary: "Commit the last reconcile's status report back to the tenant repo",
                   usage: StatusCommand.usage, run: { try StatusCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "apply", summary: "Apply the tenant repo to the cluster (staged server-side apply, prune)",
                   usage: ApplyCommand.usage, run: { try ApplyCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "diff", summary: "Show what apply would change (exit 0 none, 1 changes, 2 error)",
                   usage: DiffCommand.usage, run: { try DiffCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "reconcile", summary: "Fetch, render, apply and commit the status report, once or --watch",
                   usage: ReconcileCommand.usage, run: { try ReconcileCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "plan", summary: "Explain a change to the tenant repo in words of access and money",
                   usage: PlanCommand.usage, run: { try PlanCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "serve", summary: "Receive GitHub, Jira and Slack webhooks and create Sessions within each tenant's policy",
                   usage: ServeCommand.usage, run: { try ServeCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "cluster", summary: "Run the local cluster: a Kubernetes-compatible API server on SQLite (start, stop, reset, token)",
                   usage: ClusterCommand.usage, run: { try ClusterCommand.run($0, stdout: $1.out, stderr: $1.err) }),
        Subcommand(name: "controller", summary: "Run the session controller: Sessions become Jobs, and their status follows the runner",
                   usage: ControllerCommand.usage, run: ControllerCommand.run),
        Subcommand(name: "runner", summary: "Run one session inside its pod: clone, run the agent, upload artifacts, report",
                   usage: RunnerCommand.usage, run: RunnerCommand.run),
        Subcommand(name: "bench", summary: "Measure Tenantry on generated input (bench render, apply, webhooks, cluster)",
                   usage: BenchCommand.usage, run: BenchCommand.run),
        Subcommand(name: "audit", summary: "Verify the Sessions API's hash-chained audit trail, or prune it after its retention",
                   usage: AuditCommand.usage, run: AuditCommand.run),
        Subcommand(name: "version", summary: "Print the version", usage: "tenantry version",
                   run: { _, console in console.out("tenantry \(version)\n"); return ExitCode.success }),
    ]

    /// Runs a command line (without the program name) and returns the process exit code.
    public static func run(_ arguments: [String], console: Console = .standard) -> Int32 {
        guard let first = arguments.first, !["-h", "--help", "help"].contains(first) || arguments.count > 1 else {
            console.out(help)
            return ExitCode.success
        }
        if first == "help" || first == "--help" || first == "-h" {
            return run([arguments[1], "--help"], console: console)
        }
        if first == "--version" { return run(["version"], console: console) }
        guard let command = subcommands.first(where: { $0.name == first }) else {
            var message = "unknown command \"\(first)\""
            if let guess = Suggest.closest(to: first, among: subcommands.map(\.name)) { message += " (did you mean \"\(guess)\"?)" }
            console.err("error: \(message)\nRun 'tenantry --help' for the list of commands.\n")
            return ExitCode.failure
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            console.out(command.usage + "\n")
            return ExitCode.success
        }
        do {
            return try command.run(rest, console)
        } catch {
            let failure = Failure.report(error, command: command.name)
            console.err(failure.message)
            return failure.code
        }
    }

    static var help: String {
        let width = subcommands.map(\.name.count).max() ?? 0
        let list = subcommands.map { "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.summary)" }
        return """
        tenantry: tenants in git, rendered and reconciled into Kubernetes.

        Usage: tenantry <command> [flags]

        Commands:
        \(list.joined(separator: "\n"))

        Run 'tenantry <command> --help' for a command's flags.
        Exit codes: 0 all good; 1 the command ran and found something to report (an invalid tenant while the
        rest still rendered, changes for diff and plan, objects that failed to apply); 2 usage error, broken
        platform file, guardrail errors, or a failure that stopped the command. Each --help says exactly.

        """
    }
}
