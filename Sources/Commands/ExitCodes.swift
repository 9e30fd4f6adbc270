import Plan
import Reconciler

// What each domain outcome means as a process exit code (Tenantry.ExitCode): decided here, nowhere else.

extension ReconcileResult {
    /// As `tenantry apply` exits: 0 converged; 1 invalid tenants or failed objects; 2 a refused prune or an error.
    public var exitCode: Int32 {
        if !pruneRefusals.isEmpty || !errors.isEmpty { return Tenantry.ExitCode.failure }
        if changes.hasFailures || !invalidTenants.isEmpty { return Tenantry.ExitCode.findings }
        return Tenantry.ExitCode.success
    }
}

extension ReconcileLoop.Round {
    /// The round's exit code, as `tenantry apply` would have exited.
    public var code: Int32 { result.exitCode }
}

extension RepoPlan.Verdict {
    /// As `tenantry plan` exits: 0 no changes; 1 changes; 2 guardrail errors.
    public var exitCode: Int32 {
        switch self {
        case .unchanged: Tenantry.ExitCode.success
        case .changes: Tenantry.ExitCode.findings
        case .refused: Tenantry.ExitCode.failure
        }
    }
}

extension Tenantry.ExitCode {
    /// `serve`, `controller` and `reconcile --watch` with `--leader-elect`: the Lease could not be renewed in time, so
    /// the loop stopped (the pod restarts and campaigns again). 1, as their usage says, apart from 2 (could not start).
    public static let leaderElectionLost: Int32 = 1
}
