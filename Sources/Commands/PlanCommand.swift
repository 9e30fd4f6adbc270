import Model
import Plan
import Support

/// `tenantry plan`: what a change to the tenant repo means, in words of access and money.
public enum PlanCommand {
    public static let usage = """
        Usage: tenantry plan BASE_DIR HEAD_DIR [-o text|markdown|json]
               tenantry plan --base REV --head REV [REPO] [--path DIR] [-o text|markdown|json]

        Validates and renders both sides of a change to a tenant repo and explains it per tenant:
        who gains or loses which role where, budget changes with the percentage, models and tools
        allowed or blocked, approval, retention, quotas, concurrency and timeouts, routing moved
        between tenants, tenants and namespaces added or deleted (deleted namespaces first), then
        the created, changed and pruned objects. Tenants are matched by name, not by file.

        With --base and --head, REPO (default: the current folder) is a git repository and the
        plan compares the merge base of the two revisions with --head, as a pull request does.
        --path DIR names the tenant repo's folder inside it (default: its top).

        Guardrails (errors or warnings with file and line) come from the guardrails: section of
        the base side's platform.yaml (see specs/plan.md), so a change cannot relax its own.

        Flags:
          --base REV            base revision (branch, tag or commit)
          --head REV            head revision
          --path DIR            folder of the tenant repo inside REPO
          -o, --output FORMAT   text (default), markdown (as posted on GitHub) or json

        Exit status: 0 no changes; 1 changes; 2 guardrail errors, bad usage, or the plan could
        not run (a revision that does not exist, a folder that is not a tenant repo).
        """

    public static func run(
        _ arguments: [String], stdout: @Sendable (String) -> Void, stderr: @Sendable (String) -> Void
    ) throws -> Int32 {
        let args = try Arguments(arguments, valued: ["--base", "--head", "--path", "--output"], aliases: ["-o": "--output"])
        let positionals = args.positionals
        let format = try args.choice("--output", default: PlanWriter.Format.text, PlanWriter.Format.allCases)
        let values = ["--base": args.value("--base"), "--head": args.value("--head"), "--path": args.value("--path")].compactMapValues { $0 }

        let plan: RepoPlan
        switch (values["--base"], values["--head"]) {
        case (let base?, let head?):
            guard positionals.count <= 1 else {
                throw UsageError("unexpected argument \"\(positionals[1])\"; with --base and --head give at most one REPO")
            }
            plan = try Planner.plan(repository: positionals.first ?? ".", base: base, head: head, path: values["--path"] ?? "").plan
        case (nil, nil):
            guard values["--path"] == nil else { throw UsageError("flag --path needs --base and --head") }
            guard positionals.count == 2 else {
                throw UsageError(positionals.count < 2 ? "give BASE_DIR and HEAD_DIR, or --base REV --head REV"
                                                       : "unexpected argument \"\(positionals[2])\"; give exactly BASE_DIR and HEAD_DIR")
            }
            plan = Planner.plan(base: PlanSide.load(positionals[0]), head: PlanSide.load(positionals[1]))
        default:
            throw UsageError("give both --base and --head")
        }
        stdout(PlanWriter.write(plan, as: format))
        return plan.verdict.exitCode
    }
}
